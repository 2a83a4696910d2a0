import './tracing';
import { createLogger, runServiceMain, type Logger } from '@app/runtime';
import { startService, type RunningHttpService } from '@app/service';
import { readConfig, type Config } from './config';
import { createDatabase } from './data-access/prisma';
import { StatisticsRepository } from './data-access/statistics.repository';
import { statisticsRouter } from './entry-points/http/statistics.routes';
import { subscriptions } from './entry-points/messaging/subscriptions';

export type RunningStatisticsService = RunningHttpService;

export function start(
  config: Config,
  logger: Logger = createLogger('statistics', config.LOG_LEVEL),
): Promise<RunningStatisticsService> {
  const db = createDatabase(config.DATABASE_URL, config.DB_POOL_SIZE);
  const statistics = new StatisticsRepository(db);
  return startService({
    service: 'statistics',
    config,
    logger,
    db,
    // Statistics publishes nothing, so it has no outbox.
    outbox: false,
    describe: { backfill: config.STATISTICS_BACKFILL },
    wire: () => ({
      subscriptions: subscriptions(statistics, { backfill: config.STATISTICS_BACKFILL }),
      router: statisticsRouter(statistics),
    }),
  });
}

if (require.main === module) runServiceMain('statistics', readConfig, start);
