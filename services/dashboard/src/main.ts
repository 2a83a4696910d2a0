import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { closeServer, createHttpApp, finishApp, listen } from '@app/http';
import { createLogger, runServiceMain, type Logger, type RunningService } from '@app/runtime';
import { Actions } from './actions';
import { readConfig, type Config } from './config';
import { LiveUpdates } from './live-updates';
import { Observer } from './observer';
import { dashboardRouter } from './routes';
import { Sampler } from './sampler';
import { topologyOf } from './topology';
import { Trails } from './trails';

export interface RunningDashboard extends RunningService {
  port: number;
}

/**
 * The dashboard: it keeps looking at each service (health, /metrics, fault switches), the
 * broker's management API when there is one, and the recent orders, and every REFRESH_MS
 * sends the latest picture to every open page; the observer queue feeds the message trails.
 * It owns no database and writes to the broker nothing.
 */
export async function start(
  config: Config,
  logger: Logger = createLogger('dashboard', config.LOG_LEVEL),
): Promise<RunningDashboard> {
  const topology = topologyOf();
  const trails = new Trails();
  const observer = new Observer(config.RABBITMQ_URL, trails, logger);
  const sampler = new Sampler(config, topology, logger);
  const actions = new Actions(config);
  const live = new LiveUpdates();
  const current = () => ({
    ...sampler.current(),
    observer: observer.state(),
    burst: actions.burst,
  });
  sampler.start();
  // The page gets the latest picture at this pace, however slow any one source is.
  const timer = setInterval(() => live.send(current()), config.REFRESH_MS);

  const registry = new Registry();
  const app = createHttpApp({ logger, registry, readiness: async () => ({}) });
  app.use(
    dashboardRouter({
      topology,
      trails,
      actions,
      live,
      current,
      orderUrl: config.serviceUrls.order,
    }),
  );
  const server = await listen(finishApp(app), config.PORT, config.HOST);
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, url: `http://${config.HOST}:${port}` }, 'dashboard listening');
  return {
    port,
    async stop() {
      clearInterval(timer);
      live.close();
      await closeServer(server);
      await sampler.stop();
      await observer.stop();
    },
  };
}

if (require.main === module) runServiceMain('dashboard', readConfig, start);
