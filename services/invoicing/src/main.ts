import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { closeServer, createHttpApp, finishApp, listen } from '@app/http';
import { Messaging, databaseProblem } from '@app/messaging';
import { createLogger, runServiceMain, type Logger } from '@app/runtime';
import { readConfig, type Config } from './config';
import { InvoiceRepository } from './data-access/invoice.repository';
import { createDatabase } from './data-access/prisma';
import { invoicesRouter } from './entry-points/http/invoices.routes';
import { subscriptions } from './entry-points/messaging/subscriptions';

export interface RunningInvoicingService {
  port: number;
  stop(): Promise<void>;
}

export async function start(
  config: Config,
  logger: Logger = createLogger('invoicing', config.LOG_LEVEL),
): Promise<RunningInvoicingService> {
  const db = createDatabase(config.DATABASE_URL, config.DB_POOL_SIZE);
  const invoices = new InvoiceRepository(db);
  const registry = new Registry();
  // The handlers wake the relay through `deps`; it is set once messaging exists.
  const deps = { invoices, outboxWritten: () => messaging.outboxWritten() };
  const messaging: Messaging = new Messaging({
    service: 'invoicing',
    instance: config.INSTANCE_ID,
    url: config.RABBITMQ_URL,
    logger,
    registry,
    db,
    subscriptions: subscriptions(deps),
    outbox: true,
    prefetch: config.PREFETCH,
    retryDelaysMs: config.RETRY_DELAYS_MS,
    outboxPollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
  });
  messaging.start();

  const app = createHttpApp({
    logger,
    registry,
    readiness: async () => ({ database: await databaseProblem(db), broker: messaging.problem() }),
  });
  app.use(invoicesRouter(invoices));
  const server = await listen(finishApp(app), config.PORT);
  const port = (server.address() as AddressInfo).port;
  logger.info({ port }, 'invoicing service listening');

  return {
    port,
    async stop() {
      await closeServer(server);
      await messaging.stop();
      await db.$disconnect();
    },
  };
}

if (require.main === module) runServiceMain('invoicing', readConfig, start);
