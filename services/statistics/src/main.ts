import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { closeServer, createHttpApp, finishApp, listen } from '@app/http';
import { Messaging, databaseProblem } from '@app/messaging';
import { createLogger, runServiceMain, type Logger } from '@app/runtime';
import { readConfig, type Config } from './config';
import { createDatabase } from './data-access/prisma';
import { StatisticsRepository } from './data-access/statistics.repository';
import { statisticsRouter } from './entry-points/http/statistics.routes';
import { subscriptions } from './entry-points/messaging/subscriptions';

export interface RunningStatisticsService {
  port: number;
  stop(): Promise<void>;
}

export async function start(
  config: Config,
  logger: Logger = createLogger('statistics', config.LOG_LEVEL),
): Promise<RunningStatisticsService> {
  const db = createDatabase(config.DATABASE_URL, config.DB_POOL_SIZE);
  const statistics = new StatisticsRepository(db);
  const registry = new Registry();
  const messaging = new Messaging({
    service: 'statistics',
    instance: config.INSTANCE_ID,
    url: config.RABBITMQ_URL,
    logger,
    registry,
    db,
    subscriptions: subscriptions(statistics),
    // Statistics publishes nothing, so it has no outbox.
    outbox: false,
    prefetch: config.PREFETCH,
    retryDelaysMs: config.RETRY_DELAYS_MS,
  });
  messaging.start();

  const app = createHttpApp({
    logger,
    registry,
    readiness: async () => ({ database: await databaseProblem(db), broker: messaging.problem() }),
  });
  app.use(statisticsRouter(statistics));
  const server = await listen(finishApp(app), config.PORT);
  const port = (server.address() as AddressInfo).port;
  logger.info({ port }, 'statistics service listening');

  return {
    port,
    async stop() {
      await closeServer(server);
      await messaging.stop();
      await db.$disconnect();
    },
  };
}

if (require.main === module) runServiceMain('statistics', readConfig, start);
