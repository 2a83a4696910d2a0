import type { ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { isMessageType, type ServiceName } from '@app/contracts';
import { backoffDelay, delay, type Logger } from '@app/runtime';
import { SpanKind, withSpan } from '@app/telemetry';
import type { BrokerConnection } from './connection';
import { attemptOf, parseDelivery, type ParsedDelivery } from './delivery';
import { InvalidMessageError } from './errors';
import type { FaultSwitches } from './faults';
import type { MessagingMetrics, QueueDepth } from './metrics';
import { RetryHeaders, ack, moveTo, parkedHeaders } from './settle';
import { bindingsOf, type Subscription } from './subscription';
import {
  DEFAULT_RETRY_DELAYS_MS,
  deadLetterQueueOf,
  declareConsumerQueue,
  retryQueueOf,
} from './topology';

/** The first pause before declaring a queue again whose consumer the broker cancelled. */
const RESUBSCRIBE_FIRST_DELAY_MS = 500;

export interface ConsumerOptions {
  /** The consuming service: it owns the queues and the exchanges named after it. */
  service: ServiceName;
  connection: BrokerConnection;
  logger: Logger;
  metrics: MessagingMetrics;
  subscriptions: Subscription[];
  /** Deliveries in flight per queue; keep prefetch times queues within the database pool. */
  prefetch?: number;
  retryDelaysMs?: readonly number[];
  faults?: FaultSwitches;
  /** Deliveries handled at once across all queues; keep it below the database pool size. */
  maxConcurrentHandlers?: number;
  /** Replicas of each quorum queue declared (RABBITMQ_QUORUM_REPLICAS); unset: the broker's default. */
  quorumReplicas?: number | undefined;
}

/**
 * Consumes the subscriptions' queues with manual acknowledgements. A delivery is acked
 * only after its handler (and so its transaction) finished; a message that cannot be
 * parsed is parked in `<queue>.dead` at once; a failing handler goes through the retry
 * queues and is parked after the last one. Nothing is dropped silently.
 */
export class Consumer {
  private readonly channel: ChannelWrapper;
  private readonly retryDelaysMs: readonly number[];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly consumerTags = new Map<ConfirmChannel, string[]>();
  private stopping = false;
  private consuming = false;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private statsChannel: Promise<Channel> | undefined;
  /** Queues whose consumer the broker cancelled, with why they are not consumed again yet. */
  private readonly deaf = new Map<string, string>();

  constructor(private readonly options: ConsumerOptions) {
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    const logger = options.logger;
    this.channel = options.connection.manager.createChannel({
      name: 'consumer',
      confirm: true,
      setup: async (channel: ConfirmChannel) => {
        channel.on('error', (err: Error) => logger.warn({ err }, 'consumer channel error'));
        channel.on('close', () => {
          this.consumerTags.delete(channel);
          this.consuming = false;
        });
        await channel.prefetch(options.prefetch ?? 10);
        const tags: string[] = [];
        this.consumerTags.set(channel, tags);
        this.deaf.clear();
        for (const subscription of options.subscriptions) {
          await declareConsumerQueue(
            channel,
            { name: subscription.queue, bindings: bindingsOf(subscription) },
            this.retryDelaysMs,
            {
              service: options.service,
              quorumReplicas: options.quorumReplicas,
              connection: options.connection.channelModel(),
              onWait: (exchange, attempt) => {
                if (attempt === 1 || attempt % 10 === 0) {
                  logger.warn(
                    { exchange, attempt },
                    'waiting for an exchange to exist before binding to it',
                  );
                }
              },
            },
          );
          if (this.stopping) continue;
          await this.subscribe(channel, subscription);
        }
        this.consuming = true;
        logger.info({ queues: options.subscriptions.map((s) => s.queue) }, 'consuming');
      },
    });
    this.channel.on('error', (err: Error) => logger.warn({ err }, 'consumer channel error'));
  }

  /** True once the queues are declared and bound and their consumers registered. */
  isConsuming(): boolean {
    return this.consuming;
  }

  /**
   * The queues not consumed although they should be (the broker cancelled their consumer
   * and re-subscribing has not worked yet), each with the reason: readiness names them.
   */
  queueProblems(): Record<string, string> {
    return Object.fromEntries(this.deaf);
  }

  /**
   * Consumes one subscription's queue on `channel`. A `null` delivery is the broker
   * cancelling the consumer (the queue was deleted, a quorum queue lost its leader):
   * left alone, the service would look healthy while events, which are not mandatory,
   * are dropped for want of a queue. So it declares the queue again and re-subscribes,
   * retrying with backoff, and meanwhile readiness names the queue.
   */
  private async subscribe(channel: ConfirmChannel, subscription: Subscription): Promise<void> {
    const { consumerTag } = await channel.consume(subscription.queue, (delivery) => {
      if (delivery) {
        this.track(this.limited(() => this.traced(channel, subscription, delivery)));
        return;
      }
      const tags = this.consumerTags.get(channel);
      tags?.splice(tags.indexOf(consumerTag), 1);
      if (this.stopping) return;
      this.deaf.set(subscription.queue, 'consumer cancelled by the broker');
      this.options.logger.warn(
        { queue: subscription.queue },
        'the broker cancelled the consumer (queue deleted or moved); declaring it again',
      );
      void this.resubscribe(channel, subscription);
    });
    this.consumerTags.get(channel)?.push(consumerTag);
  }

  private async resubscribe(channel: ConfirmChannel, subscription: Subscription): Promise<void> {
    const { queue } = subscription;
    const { logger } = this.options;
    for (let attempt = 1; !this.stopping && this.consumerTags.has(channel); attempt += 1) {
      // A pause first: whatever removed the queue may still be at work.
      await delay(backoffDelay(attempt, RESUBSCRIBE_FIRST_DELAY_MS, 30_000));
      if (this.stopping || !this.consumerTags.has(channel)) return;
      try {
        // Declared on a channel of its own: a declaration the broker refuses closes its
        // channel, and the consumer's channel carries every other queue's deliveries.
        await this.declareOnProbe(subscription);
        await this.subscribe(channel, subscription);
        this.deaf.delete(queue);
        logger.info({ queue, attempt }, 'consuming again after the broker cancelled the consumer');
        return;
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        this.deaf.set(queue, `cannot consume again: ${reason}`);
        logger.error({ queue, attempt, err }, 'cannot consume the queue again; will retry');
      }
    }
  }

  private async declareOnProbe(subscription: Subscription): Promise<void> {
    const connection = this.options.connection.channelModel();
    if (!connection) throw new Error('not connected');
    const probe = await connection.createConfirmChannel();
    probe.on('error', () => undefined);
    try {
      await declareConsumerQueue(
        probe,
        { name: subscription.queue, bindings: bindingsOf(subscription) },
        this.retryDelaysMs,
        { service: this.options.service, quorumReplicas: this.options.quorumReplicas },
      );
    } finally {
      await probe.close().catch(() => undefined);
    }
  }

  async waitForConnect(): Promise<void> {
    await this.channel.waitForConnect();
  }

  /**
   * Messages ready in each subscription queue and its `.dead` companion, asked of the
   * broker with passive declares; undefined while the queues are not declared (not
   * connected). A queue whose check fails is left out.
   */
  async queueDepths(): Promise<QueueDepth[] | undefined> {
    if (!this.consuming || this.stopping) return undefined;
    const depths: QueueDepth[] = [];
    for (const { queue } of this.options.subscriptions) {
      try {
        const channel = await this.openStatsChannel();
        const ready = await channel.checkQueue(queue);
        const dead = await channel.checkQueue(deadLetterQueueOf(queue));
        depths.push({ queue, ready: ready.messageCount, dead: dead.messageCount });
      } catch {
        // A failed check (a queue deleted by hand) closes the channel; the next opens another.
        this.statsChannel = undefined;
      }
    }
    return depths;
  }

  /**
   * A plain channel of its own for the queue checks: a passive declare of a missing queue
   * closes its channel, and amqp-connection-manager recreates a closed channel only after
   * a reconnect, so a failed check must never happen on the consumer's channel.
   */
  private openStatsChannel(): Promise<Channel> {
    if (this.statsChannel) return this.statsChannel;
    const connection = this.options.connection.channelModel();
    if (!connection) return Promise.reject(new Error('not connected'));
    const opening = connection.createChannel().then((channel) => {
      channel.on('error', (err: Error) =>
        this.options.logger.debug({ err }, 'queue check channel closed'),
      );
      channel.on('close', () => {
        if (this.statsChannel === opening) this.statsChannel = undefined;
      });
      return channel;
    });
    this.statsChannel = opening;
    opening.catch(() => {
      if (this.statsChannel === opening) this.statsChannel = undefined;
    });
    return opening;
  }

  /** Stops taking deliveries, lets those in flight finish, then closes the channels. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const [channel, tags] of this.consumerTags) {
      for (const tag of tags) await channel.cancel(tag).catch(() => undefined);
    }
    await Promise.allSettled([...this.inFlight]);
    const stats = this.statsChannel;
    this.statsChannel = undefined;
    await stats?.then((channel) => channel.close()).catch(() => undefined);
    await this.channel.close();
  }

  /**
   * Runs at most `maxConcurrentHandlers` deliveries at once across all queues. Prefetch is
   * per queue (quorum queues have no per-channel prefetch), so without this cap prefetch
   * times queues could exceed the database pool and starve HTTP requests of connections.
   */
  private async limited(work: () => Promise<void>): Promise<void> {
    const limit = this.options.maxConcurrentHandlers ?? Number.POSITIVE_INFINITY;
    if (this.running >= limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running += 1;
    try {
      await work();
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** Handles a delivery in a consumer span, the child of the span that published it. */
  private traced(
    channel: ConfirmChannel,
    subscription: Subscription,
    delivery: ConsumeMessage,
  ): Promise<void> {
    const { properties, fields } = delivery;
    return withSpan(
      `${subscription.queue} process`,
      {
        kind: SpanKind.CONSUMER,
        parent: properties.headers?.traceparent as string | undefined,
        attributes: {
          'messaging.system': 'rabbitmq',
          'messaging.operation.type': 'process',
          'messaging.destination.name': fields.exchange,
          'messaging.rabbitmq.destination.routing_key': fields.routingKey,
          'messaging.consumer.group.name': subscription.queue,
          'messaging.message.id': String(properties.messageId ?? ''),
          'messaging.message.conversation_id': String(properties.correlationId ?? ''),
          'message.type': typeLabelOf(properties.type),
          'app.sender': String(properties.appId ?? ''),
        },
      },
      () => this.onDelivery(channel, subscription, delivery),
    );
  }

  private async onDelivery(
    channel: ConfirmChannel,
    subscription: Subscription,
    delivery: ConsumeMessage,
  ): Promise<void> {
    const { metrics } = this.options;
    const queue = subscription.queue;
    const started = process.hrtime.bigint();
    // A label from a known type only: the raw property is the sender's to choose, and a
    // label per value would let any sender grow the metrics without bound.
    const type = typeLabelOf(delivery.properties.type);
    if (delivery.fields.redelivered) metrics.redelivered.inc({ queue });
    const attempt = attemptOf(delivery.properties);
    let logger = this.options.logger.child({
      queue,
      type,
      messageId: delivery.properties.messageId,
      correlationId: delivery.properties.correlationId,
    });
    try {
      let parsed: ParsedDelivery;
      try {
        parsed = parseDelivery(
          subscription.handlers,
          queue,
          delivery,
          this.options.connection.username,
        );
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        logger.warn({ reason }, 'parking invalid message');
        await this.moveTo(
          channel,
          'dead',
          deadLetterQueueOf(queue),
          delivery,
          parkedHeaders(queue, 'invalid', reason, attempt - 1),
        );
        metrics.consumed.inc({ queue, type, outcome: 'dead-lettered' });
        return;
      }
      logger = logger.child({ attempt });
      try {
        await this.options.faults?.beforeHandle(type, attempt);
        const outcome = await parsed.binding.handle({
          envelope: parsed.envelope,
          payload: parsed.payload,
          queue,
          inbox: {
            consumer: queue,
            messageId: parsed.envelope.messageId,
            type: parsed.envelope.type,
          },
          attempt,
          redelivered: delivery.fields.redelivered,
          logger,
        });
        this.options.faults?.afterHandle(type);
        ack(channel, delivery, logger);
        metrics.consumed.inc({ queue, type, outcome: outcome ?? 'processed' });
        metrics.handlerSeconds.observe(
          { queue, type },
          Number(process.hrtime.bigint() - started) / 1e9,
        );
      } catch (err) {
        if (err instanceof InvalidMessageError) {
          logger.warn({ reason: err.message }, 'parking message its handler refused');
          await this.moveTo(
            channel,
            'dead',
            deadLetterQueueOf(queue),
            delivery,
            parkedHeaders(queue, 'invalid', err.message, attempt),
          );
          metrics.consumed.inc({ queue, type, outcome: 'dead-lettered' });
          return;
        }
        await this.retryOrPark(channel, queue, delivery, attempt, err, logger);
      }
    } catch (err) {
      // Moving the message failed (channel or broker gone): leave it unacknowledged so
      // the broker redelivers it; the inbox absorbs a second effect.
      logger.warn({ err }, 'could not settle delivery; it will be redelivered');
    }
  }

  private async retryOrPark(
    channel: ConfirmChannel,
    queue: string,
    delivery: ConsumeMessage,
    attempt: number,
    err: unknown,
    logger: Logger,
  ): Promise<void> {
    const error = err instanceof Error ? err.message : String(err);
    const type = typeLabelOf(delivery.properties.type);
    const delayMs = this.retryDelaysMs[attempt - 1];
    if (delayMs !== undefined && !this.stopping) {
      logger.warn({ err, delayMs }, 'handler failed; retrying later');
      await this.moveTo(channel, 'retry', retryQueueOf(queue, delayMs), delivery, {
        [RetryHeaders.attempt]: attempt,
        [RetryHeaders.lastError]: error,
      });
      this.options.metrics.consumed.inc({ queue, type, outcome: 'retried' });
      return;
    }
    if (this.stopping) {
      // Shutting down: hand the message back to the broker as it was.
      channel.nack(delivery, false, true);
      return;
    }
    logger.error({ err, attempts: attempt }, 'handler failed for the last time; parking message');
    await this.moveTo(
      channel,
      'dead',
      deadLetterQueueOf(queue),
      delivery,
      parkedHeaders(queue, 'failed', error, attempt),
    );
    this.options.metrics.consumed.inc({ queue, type, outcome: 'dead-lettered' });
  }

  private moveTo(
    channel: ConfirmChannel,
    via: 'retry' | 'dead',
    target: string,
    delivery: ConsumeMessage,
    headers: Record<string, unknown>,
  ): Promise<void> {
    const { connection, logger } = this.options;
    return moveTo(channel, via, target, delivery, headers, connection.username, logger);
  }
}

/** The message type as a metrics label and log field: a contract type, else `unknown`. */
function typeLabelOf(type: unknown): string {
  return isMessageType(type) ? type : 'unknown';
}
