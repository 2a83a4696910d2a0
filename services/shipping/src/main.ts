import './tracing';
import { createLogger, runServiceMain, type Logger } from '@app/runtime';
import { startService, type RunningHttpService } from '@app/service';
import { readConfig, type Config } from './config';
import { createDatabase } from './data-access/prisma';
import { ShipmentRepository } from './data-access/shipment.repository';
import { shipmentsRouter } from './entry-points/http/shipments.routes';
import { subscriptions } from './entry-points/messaging/subscriptions';

export type RunningShippingService = RunningHttpService;

export function start(
  config: Config,
  logger: Logger = createLogger('shipping', config.LOG_LEVEL),
): Promise<RunningShippingService> {
  const db = createDatabase(config.DATABASE_URL, config.DB_POOL_SIZE);
  return startService({
    service: 'shipping',
    config,
    logger,
    db,
    outbox: true,
    wire: () => {
      const shipments = new ShipmentRepository(db);
      return { subscriptions: subscriptions(shipments), router: shipmentsRouter(shipments) };
    },
  });
}

if (require.main === module) runServiceMain('shipping', readConfig, start);
