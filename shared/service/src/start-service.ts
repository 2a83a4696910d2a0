import type { AddressInfo } from 'node:net';
import type { Router } from 'express';
import { Registry } from 'prom-client';
import type { ServiceName } from '@app/contracts';
import { closeServer, createHttpApp, finishApp, listen } from '@app/http';
import { FaultSwitches, type OutgoingMessage, type Subscription } from '@app/broker';
import type { Logger, RunningService, ServiceEnv } from '@app/runtime';
import {
  Retention,
  databaseProblem,
  inboxRetention,
  outboxRetention,
  type RetentionTarget,
  type SqlClient,
} from '@app/store';
import { faultsRouter } from './faults.routes';
import { Messaging } from './messaging';

/** The configuration this wiring reads: the environment every service shares. */
export type ServiceConfig = ServiceEnv;

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
  /** Ends the service's own background work; called once HTTP stopped taking requests. */
  stop?: () => Promise<void>;
}

export interface StartServiceOptions {
  service: ServiceName;
  config: ServiceConfig;
  logger: Logger;
  db: ServiceDatabase;
  /** False for a service that publishes nothing, and so has no outbox table. */
  outbox: boolean;
  /**
   * Builds the service's parts. `registry` is the service's /metrics, for metrics of its
   * own. (Messages written with the store's writes reach the outbox relay through `db`.)
   */
  wire: (tools: { registry: Registry }) => ServiceParts;
  /**
   * Rows of the service's own tables to remove or clear after a window, beside the outbox
   * and inbox that every service has (Order: its idempotency keys).
   */
  retention?: RetentionTarget[];
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
  const faults = new FaultSwitches(faultsFrom(config), logger);
  if (faults.active) logger.warn({ faults: faults.current }, 'fault switches are on');
  const messaging = new Messaging({
    service,
    instance: config.INSTANCE_ID,
    url: config.RABBITMQ_URL,
    heartbeatSeconds: config.RABBITMQ_HEARTBEAT_SECONDS,
    logger,
    registry,
    db,
    outbox: options.outbox,
    prefetch: config.PREFETCH,
    // Leaves connections of the pool for HTTP requests and the outbox relay.
    maxConcurrentHandlers: Math.max(1, config.DB_POOL_SIZE - 3),
    retryDelaysMs: config.RETRY_DELAYS_MS,
    outboxPollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
    outboxLeaseMs: config.OUTBOX_LEASE_MS,
    quorumReplicas: config.RABBITMQ_QUORUM_REPLICAS,
    faults,
  });
  const parts = options.wire({ registry });
  messaging.start(parts.subscriptions, parts.onReturned);
  const retention = new Retention({
    db,
    logger,
    registry,
    targets: [
      ...(options.outbox ? [outboxRetention(config.OUTBOX_RETENTION)] : []),
      inboxRetention(config.INBOX_RETENTION),
      ...(options.retention ?? []),
    ],
    intervalMs: config.RETENTION_INTERVAL_MS,
    batchSize: config.RETENTION_BATCH,
  });
  retention.start();

  const app = createHttpApp({
    logger,
    registry,
    readiness: async () => ({
      database: await databaseProblem(db),
      broker: messaging.problem(),
      ...messaging.queueProblems(),
    }),
  });
  app.use(parts.router);
  // Workshops and tests flip faults at run time; without ALLOW_FAULT_SWITCHES there is no
  // such endpoint at all.
  if (config.ALLOW_FAULT_SWITCHES) app.use(faultsRouter(faults, config.FAULT_SWITCHES_TOKEN));
  const server = await listen(finishApp(app), config.PORT);
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, ...options.describe }, `${service} service listening`);

  return {
    port,
    async stop() {
      await closeServer(server);
      await parts.stop?.();
      await messaging.stop();
      await retention.stop();
      await db.$disconnect();
    },
  };
}

function faultsFrom(config: ServiceConfig): ConstructorParameters<typeof FaultSwitches>[0] {
  return {
    handlerDelayMs: config.FAULT_HANDLER_DELAY_MS,
    handlerFailTimes: config.FAULT_HANDLER_FAIL_TIMES,
    handlerFailAlways: config.FAULT_HANDLER_FAIL_ALWAYS,
    messageTypes: config.FAULT_MESSAGE_TYPES,
    relayPaused: config.FAULT_RELAY_PAUSED,
    crashAfterPublish: config.FAULT_CRASH_AFTER_PUBLISH,
    crashAfterConfirms: config.FAULT_CRASH_AFTER_CONFIRMS,
    crashInHandler: config.FAULT_CRASH_IN_HANDLER,
    crashBeforeAck: config.FAULT_CRASH_BEFORE_ACK,
    crashMidBatchAcks: config.FAULT_CRASH_MID_BATCH_ACKS,
  };
}
