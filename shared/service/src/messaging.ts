import type { Registry } from 'prom-client';
import {
  BrokerConnection,
  Consumer,
  Publisher,
  createMessagingMetrics,
  declarePublisherExchanges,
  registerConnectionMetrics,
  type FaultSwitches,
  type MessagingMetrics,
  type OutgoingMessage,
  type Subscription,
} from '@app/broker';
import { ServiceNames, type ServiceName } from '@app/contracts';
import type { Logger } from '@app/runtime';
import { OutboxRelay, type SqlClient } from '@app/store';

export interface MessagingOptions {
  service: ServiceName;
  url: string;
  /** The AMQP heartbeat to ask for (see RABBITMQ_HEARTBEAT_SECONDS). */
  heartbeatSeconds?: number;
  logger: Logger;
  registry: Registry;
  /** The service's database client; the outbox relay reads and marks rows through it. */
  db: SqlClient;
  /** False for a service that publishes nothing (it has no outbox). */
  outbox: boolean;
  prefetch?: number;
  /** Deliveries handled at once across all queues (see Consumer). */
  maxConcurrentHandlers?: number;
  retryDelaysMs?: readonly number[];
  outboxBatchSize?: number;
  outboxPollIntervalMs?: number;
  outboxLeaseMs?: number;
  /** Distinguishes instances of one service in the broker's connection list. */
  instance?: string;
  faults?: FaultSwitches;
  /** Replicas of each quorum queue declared (RABBITMQ_QUORUM_REPLICAS). */
  quorumReplicas?: number | undefined;
  /** How long a backfilling history stream must stay quiet to count as read to its end (see Consumer). */
  backfillIdleMs?: number;
}

/**
 * Everything a service needs to take part in messaging: the connection, its own
 * exchanges, the consumers of its subscriptions and the outbox relay, with one start,
 * one readiness check and one orderly stop.
 */
export class Messaging {
  readonly connection: BrokerConnection;
  readonly publisher: Publisher;
  readonly metrics: MessagingMetrics;
  private relay: OutboxRelay | undefined;
  private consumer: Consumer | undefined;

  constructor(private readonly options: MessagingOptions) {
    const logger = options.logger;
    this.metrics = createMessagingMetrics(
      options.registry,
      async () => this.relay?.backlog(),
      async () => this.consumer?.queueDepths(),
    );
    this.connection = new BrokerConnection({
      url: options.url,
      connectionName: `${options.service}${options.instance ? `#${options.instance}` : ''}`,
      logger,
      heartbeatSeconds: options.heartbeatSeconds,
    });
    registerConnectionMetrics(options.registry, this.connection);
    this.publisher = new Publisher(this.connection, logger, this.metrics, (channel) =>
      declarePublisherExchanges(channel, options.service, this.connection.channelModel()),
    );
    if (!(ServiceNames as readonly string[]).includes(this.connection.username)) {
      logger.warn(
        { brokerUser: this.connection.username },
        `connected as shared broker user ${this.connection.username}, not as its own user ${options.service}: least privilege is not in force and senders cannot be told apart`,
      );
    }
  }

  /**
   * Starts consuming `subscriptions` and relaying the outbox. `onReturned` hears of a
   * `mandatory` message the broker returned as unroutable.
   */
  start(
    subscriptions: Subscription[],
    onReturned?: (message: OutgoingMessage) => Promise<void>,
  ): void {
    const { options, metrics } = this;
    if (subscriptions.length > 0) {
      this.consumer = new Consumer({
        service: options.service,
        connection: this.connection,
        logger: options.logger,
        metrics,
        subscriptions,
        prefetch: options.prefetch,
        retryDelaysMs: options.retryDelaysMs,
        faults: options.faults,
        maxConcurrentHandlers: options.maxConcurrentHandlers,
        quorumReplicas: options.quorumReplicas,
        backfillIdleMs: options.backfillIdleMs,
      });
    }
    if (options.outbox) {
      this.relay = new OutboxRelay({
        db: options.db,
        publisher: this.publisher,
        logger: options.logger,
        isConnected: () => this.connection.isConnected(),
        batchSize: options.outboxBatchSize,
        pollIntervalMs: options.outboxPollIntervalMs,
        leaseMs: options.outboxLeaseMs,
        onReturned,
        faults: options.faults,
      });
      this.relay.start();
      // Statements written through the service's database tell this relay of their messages.
      options.db.outbox = this.relay;
    }
  }

  /** Why the service cannot take part in messaging yet, for `/health/ready`. */
  problem(): string | undefined {
    const connection = this.connection.problem();
    if (connection) return connection;
    if (this.consumer && !this.consumer.isConsuming())
      return 'queues not declared and consumed yet';
    return undefined;
  }

  /**
   * Queues that should be consumed and are not (the broker cancelled their consumer), keyed
   * `queue <name>` for `/health/ready`, so a deaf consumer shows as not ready by name; and
   * queues still catching up from a history stream, keyed `backfilling <name>`.
   */
  queueProblems(): Record<string, string> {
    const problems = this.consumer?.queueProblems() ?? {};
    const backfilling = this.consumer?.backfilling() ?? {};
    return Object.fromEntries([
      ...Object.entries(problems).map(([queue, problem]) => [`queue ${queue}`, problem]),
      ...Object.entries(backfilling).map(([queue, progress]) => [`backfilling ${queue}`, progress]),
    ]);
  }

  /** Stops consuming and lets in-flight handlers finish, flushes the relay's batch, closes. */
  async stop(): Promise<void> {
    await this.consumer?.stop();
    await this.relay?.stop();
    await this.publisher.close();
    await this.connection.close();
  }
}
