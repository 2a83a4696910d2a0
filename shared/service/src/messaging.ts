import { ServiceNames, type ServiceName } from '@app/contracts';
import type { ChannelModel } from 'amqplib';
import type { Logger } from '@app/runtime';
import type { Registry } from 'prom-client';
import { BrokerConnection } from './connection';
import { Consumer, type Subscription } from './consumer';
import type { FaultSwitches } from './faults';
import type { OutgoingMessage } from './message';
import { createMessagingMetrics, type MessagingMetrics } from './metrics';
import { OutboxRelay } from './outbox';
import { Publisher } from './publisher';
import type { SqlClient } from './sql';
import { declarePublisherExchanges } from './topology';

export interface MessagingOptions {
  service: ServiceName;
  url: string;
  logger: Logger;
  registry: Registry;
  /** The service's database client; the outbox relay reads and marks rows through it. */
  db: SqlClient;
  subscriptions: Subscription[];
  /** False for a service that publishes nothing (it has no outbox). */
  outbox: boolean;
  prefetch?: number;
  /** Deliveries handled at once across all queues (see Consumer). */
  maxConcurrentHandlers?: number;
  retryDelaysMs?: readonly number[];
  outboxBatchSize?: number;
  outboxPollIntervalMs?: number;
  outboxLeaseMs?: number;
  onReturned?: (message: OutgoingMessage) => Promise<void>;
  /** Distinguishes instances of one service in the broker's connection list. */
  instance?: string;
  faults?: FaultSwitches;
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
  readonly relay: OutboxRelay | undefined;
  private readonly consumer: Consumer | undefined;

  constructor(options: MessagingOptions) {
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
    });
    this.publisher = new Publisher(this.connection, logger, this.metrics, (channel) =>
      declarePublisherExchanges(
        channel,
        options.service,
        this.connection.manager.connection as unknown as ChannelModel,
      ),
    );
    if (!(ServiceNames as readonly string[]).includes(this.connection.username)) {
      logger.warn(
        { brokerUser: this.connection.username },
        `connected as shared broker user ${this.connection.username}, not as its own user ${options.service}: least privilege is not in force and senders cannot be told apart`,
      );
    }
    if (options.subscriptions.length > 0) {
      this.consumer = new Consumer({
        service: options.service,
        connection: this.connection,
        logger,
        metrics: this.metrics,
        subscriptions: options.subscriptions,
        prefetch: options.prefetch,
        retryDelaysMs: options.retryDelaysMs,
        faults: options.faults,
        maxConcurrentHandlers: options.maxConcurrentHandlers,
      });
    }
    if (options.outbox) {
      const relay = new OutboxRelay({
        db: options.db,
        publisher: this.publisher,
        logger,
        isConnected: () => this.connection.isConnected(),
        batchSize: options.outboxBatchSize,
        pollIntervalMs: options.outboxPollIntervalMs,
        leaseMs: options.outboxLeaseMs,
        onReturned: options.onReturned,
        faults: options.faults,
      });
      this.relay = relay;
    }
  }

  start(): void {
    this.relay?.start();
  }

  /** Tells the relay that a transaction just wrote to the outbox. */
  outboxWritten(): void {
    this.relay?.wake();
  }

  /** Why the service cannot take part in messaging yet, for `/health/ready`. */
  problem(): string | undefined {
    const connection = this.connection.problem();
    if (connection) return connection;
    if (this.consumer && !this.consumer.isConsuming())
      return 'queues not declared and consumed yet';
    return undefined;
  }

  /** Stops consuming and lets in-flight handlers finish, flushes the relay's batch, closes. */
  async stop(): Promise<void> {
    await this.consumer?.stop();
    await this.relay?.stop();
    await this.publisher.close();
    await this.connection.close();
  }
}
