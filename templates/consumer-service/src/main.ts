import './tracing';
import { createLogger, runServiceMain, type Logger } from '@app/runtime';
import { startService, type RunningHttpService } from '@app/service';
import { readConfig, type Config } from './config';
import { PointsRepository } from './data-access/points.repository';
import { createDatabase } from './data-access/prisma';
import { pointsRouter } from './entry-points/http/points.routes';
import { subscriptions } from './entry-points/messaging/subscriptions';

export type Running__Name__Service = RunningHttpService;

export function start(
  config: Config,
  logger: Logger = createLogger('__name__', config.LOG_LEVEL),
): Promise<Running__Name__Service> {
  const db = createDatabase(config.DATABASE_URL, config.DB_POOL_SIZE);
  const points = new PointsRepository(db);
  return startService({
    service: '__name__',
    config,
    logger,
    db,
    // __Name__ publishes nothing, so it has no outbox.
    outbox: false,
    describe: { backfill: config.__NAME___BACKFILL },
    wire: () => ({
      subscriptions: subscriptions(points, { backfill: config.__NAME___BACKFILL }),
      router: pointsRouter(points),
    }),
  });
}

if (require.main === module) runServiceMain('__name__', readConfig, start);
