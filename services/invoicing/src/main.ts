import './tracing';
import { createLogger, runServiceMain, type Logger } from '@app/runtime';
import { startService, type RunningHttpService } from '@app/service';
import { readConfig, type Config } from './config';
import { InvoiceRepository } from './data-access/invoice.repository';
import { createDatabase } from './data-access/prisma';
import { invoicesRouter } from './entry-points/http/invoices.routes';
import { subscriptions } from './entry-points/messaging/subscriptions';

export type RunningInvoicingService = RunningHttpService;

export function start(
  config: Config,
  logger: Logger = createLogger('invoicing', config.LOG_LEVEL),
): Promise<RunningInvoicingService> {
  const db = createDatabase(config.DATABASE_URL, config.DB_POOL_SIZE);
  return startService({
    service: 'invoicing',
    config,
    logger,
    db,
    outbox: true,
    wire: () => {
      const invoices = new InvoiceRepository(db);
      return { subscriptions: subscriptions(invoices), router: invoicesRouter(invoices) };
    },
  });
}

if (require.main === module) runServiceMain('invoicing', readConfig, start);
