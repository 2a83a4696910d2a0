import type { AddressInfo } from 'node:net';
import type { Router } from 'express';
import { Registry } from 'prom-client';
import type { ServiceName } from '@app/contracts';
import { closeServer, createHttpApp, finishApp, listen } from '@app/http';
import {
  Messaging,
  databaseProblem,
  type OutgoingMessage,
  type SqlClient,
  type Subscription,
} from '@app/messaging';
import type { Logger, RunningService } from '@app/runtime';

/** The part of a service's configuration this wiring reads (see `serviceEnvSchema`). */
export interface ServiceConfig {
  PORT: number;
  RABBITMQ_URL: string;
  PREFETCH: number;
  RETRY_DELAYS_MS: number[];
  OUTBOX_POLL_INTERVAL_MS: number;
  INSTANCE_ID?: string | undefined;
}

/** A service's database client: raw SQL for the outbox and inbox, and a way to close it. */
export interface ServiceDatabase extends SqlClient {
  $disconnect(): Promise<void>;
}

/** What a service brings: the one list of what it consumes and its HTTP routes. */
export interface ServiceParts {
  subscriptions: Subscription[];
  router: Router;
  /** Called for a `mandatory` message the broker returned as unroutable. */
  onReturned?: (message: OutgoingMessage) => Promise<void>;
}

export interface StartServiceOptions {
  service: ServiceName;
  config: ServiceConfig;
  logger: Logger;
  db: ServiceDatabase;
  /** False for a service that publishes nothing, and so has no outbox table. */
  outbox: boolean;
  /**
   * Builds the service's parts. `outboxWritten` wakes the outbox relay; use cases call it
   * after a commit that wrote to the outbox, so messages leave at once.
   */
  wire: (tools: { outboxWritten: () => void }) => ServiceParts;
  /** Extra fields for the "listening" log line. */
  describe?: Record<string, unknown>;
}

export interface RunningHttpService extends RunningService {
  /** The bound port (useful with PORT=0). */
  port: number;
}

/**
 * Starts a service the same way everywhere: messaging (connection, topology, consumers,
 * outbox relay), the HTTP edge with health and metrics, and a stop that takes things down
 * in order: no new requests, no new deliveries, in-flight work finished, relay flushed,
 * connections closed.
 */
export async function startService(options: StartServiceOptions): Promise<RunningHttpService> {
  const { service, config, logger, db } = options;
  const registry = new Registry();
  // The parts need the relay's wake-up before messaging, which needs the parts, exists.
  let wakeRelay = (): void => undefined;
  const parts = options.wire({ outboxWritten: () => wakeRelay() });
  const messaging = new Messaging({
    service,
    instance: config.INSTANCE_ID,
    url: config.RABBITMQ_URL,
    logger,
    registry,
    db,
    subscriptions: parts.subscriptions,
    outbox: options.outbox,
    prefetch: config.PREFETCH,
    retryDelaysMs: config.RETRY_DELAYS_MS,
    outboxPollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
    onReturned: parts.onReturned,
  });
  wakeRelay = () => messaging.outboxWritten();
  messaging.start();

  const app = createHttpApp({
    logger,
    registry,
    readiness: async () => ({ database: await databaseProblem(db), broker: messaging.problem() }),
  });
  app.use(parts.router);
  const server = await listen(finishApp(app), config.PORT);
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, ...options.describe }, `${service} service listening`);

  return {
    port,
    async stop() {
      await closeServer(server);
      await messaging.stop();
      await db.$disconnect();
    },
  };
}
