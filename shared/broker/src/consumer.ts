import type { ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { z } from 'zod';
import {
  EnvelopeSchema,
  Headers,
  JSON_CONTENT_TYPE,
  Messages,
  ServiceNames,
  isMessageType,
  type Envelope,
  type MessageType,
  type PayloadOf,
  type ServiceName,
} from '@app/contracts';
import type { Logger } from '@app/runtime';
import type { BrokerConnection } from './connection';
import { InvalidMessageError } from './errors';
import type { FaultSwitches } from './faults';
import type { MessagingMetrics, QueueDepth } from './metrics';
import {
  DEFAULT_RETRY_DELAYS_MS,
  deadLetterQueueOf,
  declareConsumerQueue,
  retryQueueOf,
  type Binding,
} from './topology';

/** A delivery that parsed: its envelope and its validated payload. */
export interface IncomingMessage<P> {
  envelope: Envelope;
  payload: P;
  queue: string;
  /** 1 on the first try, 2 after the first retry, and so on. */
  attempt: number;
  redelivered: boolean;
  logger: Logger;
}

/** What a handler reports; `duplicate` when the inbox showed the message was handled before. */
export type HandlerOutcome = 'processed' | 'duplicate';

export type MessageHandler<T extends MessageType> = (
  message: IncomingMessage<PayloadOf<T>>,
) => Promise<HandlerOutcome | void>;

export interface HandlerBinding {
  type: MessageType;
  handle: (message: IncomingMessage<unknown>) => Promise<HandlerOutcome | void>;
}

/** Pairs a message type with its handler, typed by the contract. */
export function on<T extends MessageType>(type: T, handle: MessageHandler<T>): HandlerBinding {
  return { type, handle: handle as HandlerBinding['handle'] };
}

/** One queue and the message types handled from it; bindings follow from the types. */
export interface Subscription {
  queue: string;
  handlers: HandlerBinding[];
}

export const bindingsOf = (subscription: Subscription): Binding[] =>
  subscription.handlers.map(({ type }) => ({
    exchange: Messages[type].exchange,
    routingKey: Messages[type].routingKey,
  }));

/** Headers written on messages this consumer moves to a retry or dead-letter queue. */
export const RetryHeaders = {
  attempt: 'x-retry-attempt',
  lastError: 'x-last-error',
  originalUserId: 'x-original-user-id',
  deadReason: 'x-dead-reason',
  deadQueue: 'x-dead-queue',
  deadAt: 'x-dead-at',
} as const;

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
}

class PoisonMessage extends InvalidMessageError {}

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
        for (const subscription of options.subscriptions) {
          await declareConsumerQueue(
            channel,
            { name: subscription.queue, bindings: bindingsOf(subscription) },
            this.retryDelaysMs,
            {
              service: options.service,
              // The manager's current connection, typed by amqp-connection-manager as the
              // callback API; it is the promise API's ChannelModel.
              connection: options.connection.manager.connection as unknown as ChannelModel,
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
          const { consumerTag } = await channel.consume(subscription.queue, (delivery) => {
            if (delivery)
              this.track(this.limited(() => this.onDelivery(channel, subscription, delivery)));
          });
          tags.push(consumerTag);
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
    // amqp-connection-manager's types predate amqplib's ChannelModel, which is what it holds.
    const connection = this.options.connection.manager.connection as unknown as
      ChannelModel | undefined;
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

  private async onDelivery(
    channel: ConfirmChannel,
    subscription: Subscription,
    delivery: ConsumeMessage,
  ): Promise<void> {
    const { metrics } = this.options;
    const queue = subscription.queue;
    const started = process.hrtime.bigint();
    const type = String(delivery.properties.type ?? '(none)');
    if (delivery.fields.redelivered) metrics.redelivered.inc({ queue });
    const attempt = Number(delivery.properties.headers?.[RetryHeaders.attempt] ?? 0) + 1;
    let logger = this.options.logger.child({
      queue,
      type,
      messageId: delivery.properties.messageId,
      correlationId: delivery.properties.correlationId,
    });
    try {
      let parsed: { binding: HandlerBinding; envelope: Envelope; payload: unknown };
      try {
        parsed = parseDelivery(subscription, delivery, this.options.connection.username);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        logger.warn({ reason }, 'parking invalid message');
        await this.moveTo(channel, deadLetterQueueOf(queue), delivery, {
          [RetryHeaders.deadReason]: 'invalid',
          [RetryHeaders.lastError]: reason,
          [RetryHeaders.deadQueue]: queue,
          [RetryHeaders.attempt]: attempt - 1,
          [RetryHeaders.deadAt]: new Date().toISOString(),
        });
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
          attempt,
          redelivered: delivery.fields.redelivered,
          logger,
        });
        ack(channel, delivery, logger);
        metrics.consumed.inc({ queue, type, outcome: outcome ?? 'processed' });
        metrics.handlerSeconds.observe(
          { queue, type },
          Number(process.hrtime.bigint() - started) / 1e9,
        );
      } catch (err) {
        if (err instanceof InvalidMessageError) {
          logger.warn({ reason: err.message }, 'parking message its handler refused');
          await this.moveTo(channel, deadLetterQueueOf(queue), delivery, {
            [RetryHeaders.deadReason]: 'invalid',
            [RetryHeaders.lastError]: err.message,
            [RetryHeaders.deadQueue]: queue,
            [RetryHeaders.attempt]: attempt,
            [RetryHeaders.deadAt]: new Date().toISOString(),
          });
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
    const type = String(delivery.properties.type);
    const delayMs = this.retryDelaysMs[attempt - 1];
    if (delayMs !== undefined && !this.stopping) {
      logger.warn({ err, delayMs }, 'handler failed; retrying later');
      await this.moveTo(channel, retryQueueOf(queue, delayMs), delivery, {
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
    await this.moveTo(channel, deadLetterQueueOf(queue), delivery, {
      [RetryHeaders.deadReason]: 'failed',
      [RetryHeaders.lastError]: error,
      [RetryHeaders.deadQueue]: queue,
      [RetryHeaders.attempt]: attempt,
      [RetryHeaders.deadAt]: new Date().toISOString(),
    });
    this.options.metrics.consumed.inc({ queue, type, outcome: 'dead-lettered' });
  }

  /**
   * Republishes a delivery to another queue with confirms, then acks it. The copy
   * carries this service's user id (the broker allows no other); the original sender's
   * is kept in a header.
   */
  private async moveTo(
    channel: ConfirmChannel,
    target: string,
    delivery: ConsumeMessage,
    headers: Record<string, unknown>,
  ): Promise<void> {
    const { properties } = delivery;
    const options: Options.Publish = {
      persistent: true,
      contentType: properties.contentType,
      contentEncoding: properties.contentEncoding,
      messageId: properties.messageId,
      type: properties.type,
      correlationId: properties.correlationId,
      appId: properties.appId,
      timestamp: properties.timestamp,
      replyTo: properties.replyTo,
      userId: this.options.connection.username,
      headers: {
        ...properties.headers,
        ...(properties.userId ? { [RetryHeaders.originalUserId]: properties.userId } : {}),
        ...headers,
      },
    };
    await new Promise<void>((resolve, reject) => {
      channel.sendToQueue(target, delivery.content, options, (err) =>
        err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
      );
    });
    ack(channel, delivery, this.options.logger);
  }
}

/**
 * Acks on the channel the delivery came on. After a reconnect that channel is gone; an ack
 * on its replacement would close it (unknown delivery tag), so the ack is dropped and the
 * broker redelivers the message, which the inbox recognises.
 */
function ack(channel: ConfirmChannel, delivery: ConsumeMessage, logger: Logger): void {
  try {
    channel.ack(delivery);
  } catch (err) {
    logger.warn({ err }, 'ack dropped: channel closed; the message will be redelivered');
  }
}

function parseDelivery(
  subscription: Subscription,
  delivery: ConsumeMessage,
  ownUser: string,
): { binding: HandlerBinding; envelope: Envelope; payload: unknown } {
  const { properties } = delivery;
  const type: unknown = properties.type;
  if (!isMessageType(type)) throw new PoisonMessage(`unknown message type ${JSON.stringify(type)}`);
  const binding = subscription.handlers.find((h) => h.type === type);
  if (!binding) throw new PoisonMessage(`no handler for ${type} on ${subscription.queue}`);
  if (properties.contentType !== JSON_CONTENT_TYPE) {
    throw new PoisonMessage(
      `content type ${String(properties.contentType)} is not ${JSON_CONTENT_TYPE}`,
    );
  }
  const headers = properties.headers ?? {};
  const timestampMs = Number(headers['x-timestamp-ms'] ?? Number(properties.timestamp) * 1000);
  const envelope = EnvelopeSchema.safeParse({
    messageId: properties.messageId,
    type,
    correlationId: properties.correlationId,
    timestamp: new Date(timestampMs),
    appId: properties.appId,
    causationId: headers[Headers.causationId] ?? undefined,
    traceparent: headers[Headers.traceparent] ?? undefined,
    replyTo: properties.replyTo ?? undefined,
    userId: properties.userId ?? undefined,
  });
  if (!envelope.success) throw new PoisonMessage(`invalid envelope: ${summarize(envelope.error)}`);
  const senders: readonly string[] = Messages[type].senders;
  if (!senders.includes(envelope.data.appId)) {
    throw new PoisonMessage(`${type} may not be sent by ${envelope.data.appId}`);
  }
  verifySender(type, envelope.data, headers, ownUser);
  let body: unknown;
  try {
    body = JSON.parse(delivery.content.toString('utf8'));
  } catch {
    throw new PoisonMessage('body is not valid JSON');
  }
  const payload = Messages[type].schema.safeParse(body);
  if (!payload.success)
    throw new PoisonMessage(`invalid ${type} payload: ${summarize(payload.error)}`);
  return { binding, envelope: envelope.data, payload: payload.data };
}

/**
 * Trusts the broker, not the message, about who sent it: RabbitMQ refuses a publish whose
 * `userId` is not the publishing connection's user, so `userId` names the sender's broker
 * user, which is the service's name. A copy this consumer moved to its own retry or
 * dead-letter queue carries its own user id; the sender it checked on arrival is kept in
 * `x-original-user-id`. Where every service shares one broker user (no per-service users
 * could be set up), the sender cannot be told apart and only that user is required.
 */
function verifySender(
  type: MessageType,
  envelope: Envelope,
  headers: Record<string, unknown>,
  ownUser: string,
): void {
  const userId = envelope.userId;
  if (!userId) throw new PoisonMessage(`${type} has no userId: its sender cannot be verified`);
  const original = headers[RetryHeaders.originalUserId];
  const claimed = userId === ownUser && typeof original === 'string' ? original : userId;
  const sharedUser = !(ServiceNames as readonly string[]).includes(ownUser);
  if (sharedUser) {
    if (claimed !== ownUser)
      throw new PoisonMessage(`${type} was sent by broker user ${claimed}, not ${ownUser}`);
    return;
  }
  const senders: readonly string[] = Messages[type].senders;
  if (!senders.includes(claimed) || claimed !== envelope.appId) {
    throw new PoisonMessage(
      `${type} was sent by broker user ${claimed} (appId ${envelope.appId}); it may come only from ${senders.join(', ')}`,
    );
  }
}

function summarize(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'} ${issue.message}`)
    .join('; ');
}
