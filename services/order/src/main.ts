import { createLogger, runServiceMain, type Logger } from '@app/runtime';
import { startService, type RunningHttpService } from '@app/service';
import { readConfig, type Config } from './config';
import { OrderRepository, idempotencyKeyRetention } from './data-access/order.repository';
import { createDatabase } from './data-access/prisma';
import { recordUndeliverable } from './domain/record-outcome.use-case';
import { ordersRouter } from './entry-points/http/orders.routes';
import { subscriptions } from './entry-points/messaging/subscriptions';

export type RunningOrderService = RunningHttpService;

export function start(
  config: Config,
  logger: Logger = createLogger('order', config.LOG_LEVEL),
): Promise<RunningOrderService> {
  const db = createDatabase(config.DATABASE_URL, config.DB_POOL_SIZE);
  return startService({
    service: 'order',
    config,
    logger,
    db,
    outbox: true,
    retention: [idempotencyKeyRetention(config.IDEMPOTENCY_KEY_RETENTION)],
    describe: { style: config.MESSAGING_STYLE },
    wire: ({ outboxWritten }) => {
      const orders = new OrderRepository(db, outboxWritten);
      return {
        subscriptions: subscriptions(orders),
        router: ordersRouter({ orders, defaultStyle: config.MESSAGING_STYLE }),
        // A command nobody can receive: its recipient was never deployed.
        onReturned: async (message) => {
          const orderId = message.properties.correlationId;
          const reason = `${message.type} could not be delivered: no queue is bound to ${message.exchange} for ${message.routingKey} (is its recipient deployed?)`;
          await recordUndeliverable(orders, orderId, reason);
          logger.warn(
            { correlationId: orderId, type: message.type },
            'order failed: command unroutable',
          );
        },
      };
    },
  });
}

if (require.main === module) runServiceMain('order', readConfig, start);
