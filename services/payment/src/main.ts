import './tracing';
import { createLogger, runServiceMain, type Logger } from '@app/runtime';
import { startService, type RunningHttpService } from '@app/service';
import { readConfig, type Config } from './config';
import { PaymentRepository } from './data-access/payment.repository';
import { createDatabase } from './data-access/prisma';
import { paymentsRouter } from './entry-points/http/payments.routes';
import { subscriptions } from './entry-points/messaging/subscriptions';

export type RunningPaymentService = RunningHttpService;

export function start(
  config: Config,
  logger: Logger = createLogger('payment', config.LOG_LEVEL),
): Promise<RunningPaymentService> {
  const db = createDatabase(config.DATABASE_URL, config.DB_POOL_SIZE);
  return startService({
    service: 'payment',
    config,
    logger,
    db,
    outbox: true,
    wire: () => {
      const payments = new PaymentRepository(db);
      return { subscriptions: subscriptions(payments), router: paymentsRouter(payments) };
    },
  });
}

if (require.main === module) runServiceMain('payment', readConfig, start);
