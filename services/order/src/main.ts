import './tracing';
import { Counter, Histogram } from 'prom-client';
import { createLogger, runServiceMain, type Logger } from '@app/runtime';
import { startService, type RunningHttpService } from '@app/service';
import { readConfig, type Config } from './config';
import { OrderRepository, idempotencyKeyRetention } from './data-access/order.repository';
import { createDatabase } from './data-access/prisma';
import { recordUndeliverable } from './domain/record-outcome.use-case';
import { OpenOrdersLimit } from './entry-points/http/admission';
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
    wire: ({ registry }) => {
      const finished = new Histogram({
        name: 'orders_finished_seconds',
        help: 'End to end: from POST /orders to a terminal state (COMPLETED, CANCELLED, FAILED), by status and style',
        labelNames: ['status', 'style'],
        buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        registers: [registry],
      });
      const changedMeanwhile = new Counter({
        name: 'order_changes_decided_again_total',
        help: 'Changes of an order (by an outcome message) that found the order changed since it was seen, so read it and decided again',
        registers: [registry],
      });
      const orders = new OrderRepository(db, {
        finished: (order) =>
          finished.observe(
            { status: order.status, style: order.style },
            (order.updatedAt.getTime() - order.createdAt.getTime()) / 1000,
          ),
        changedMeanwhile: () => changedMeanwhile.inc(),
      });
      const replayed = new Counter({
        name: 'order_requests_replayed_total',
        help: 'POST /orders answered with the order an earlier request with the same Idempotency-Key placed',
        registers: [registry],
      });
      const admission = new OpenOrdersLimit({
        countOpen: () => orders.countOpen(),
        limit: config.MAX_OPEN_ORDERS,
        refreshMs: config.OPEN_ORDERS_COUNT_INTERVAL_MS,
        logger,
        registry,
      });
      admission.start();
      return {
        subscriptions: subscriptions(orders),
        router: ordersRouter({
          orders,
          admission,
          replayed: () => replayed.inc(),
          defaultStyle: config.MESSAGING_STYLE,
        }),
        stop: () => admission.stop(),
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
