import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { closeServer, createHttpApp, finishApp, listen } from '@app/http';
import { Messaging, databaseProblem } from '@app/messaging';
import { createLogger, runServiceMain, type Logger } from '@app/runtime';
import { readConfig, type Config } from './config';
import { OrderRepository } from './data-access/order.repository';
import { createDatabase } from './data-access/prisma';
import { ordersRouter } from './entry-points/http/orders.routes';
import { subscriptions } from './entry-points/messaging/subscriptions';
import { recordUndeliverable } from './domain/record-outcome.use-case';

export interface RunningOrderService {
  port: number;
  stop(): Promise<void>;
}

export async function start(
  config: Config,
  logger: Logger = createLogger('order', config.LOG_LEVEL),
): Promise<RunningOrderService> {
  const db = createDatabase(config.DATABASE_URL, config.DB_POOL_SIZE);
  const orders = new OrderRepository(db);
  const registry = new Registry();
  const messaging = new Messaging({
    service: 'order',
    instance: config.INSTANCE_ID,
    url: config.RABBITMQ_URL,
    logger,
    registry,
    db,
    subscriptions: subscriptions(orders),
    outbox: true,
    prefetch: config.PREFETCH,
    retryDelaysMs: config.RETRY_DELAYS_MS,
    outboxPollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
    onReturned: async (message) => {
      const reason = `${message.type} could not be delivered: no queue is bound to ${message.exchange} for ${message.routingKey} (is its recipient deployed?)`;
      await recordUndeliverable(orders, message.properties.correlationId, reason);
      logger.warn(
        { correlationId: message.properties.correlationId, type: message.type },
        'order failed: command unroutable',
      );
    },
  });
  messaging.start();

  const app = createHttpApp({
    logger,
    registry,
    readiness: async () => ({ database: await databaseProblem(db), broker: messaging.problem() }),
  });
  app.use(
    ordersRouter({
      orders,
      defaultStyle: config.MESSAGING_STYLE,
      outboxWritten: () => messaging.outboxWritten(),
    }),
  );
  const server = await listen(finishApp(app), config.PORT);
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, style: config.MESSAGING_STYLE }, 'order service listening');

  return {
    port,
    async stop() {
      await closeServer(server);
      await messaging.stop();
      await db.$disconnect();
    },
  };
}

if (require.main === module) runServiceMain('order', readConfig, start);
