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
import { queueExists } from './history';
import { onProbeChannel } from './probe';
import {
  bindingsOf,
  type HandlerBinding,
  type HandlerOutcome,
  type Subscription,
} from './subscription';
import {
  DEFAULT_RETRY_DELAYS_MS,
  deadLetterQueueOf,
  declareConsumerQueue,
  retryQueueOf,
} from './topology';

/**
 * Batches (or single deliveries) of one queue handled at once. One would make each
 * delivery that arrives during a batch wait for it to end; two keep a queue at moderate
 * load from waiting on itself while still gathering batches under load.
 */
const BATCH_WORKERS = 2;

/** The first pause before declaring a queue again whose consumer the broker cancelled. */
const RESUBSCRIBE_FIRST_DELAY_MS = 500;

/** How long a backfill keeps reading the stream after it met the seam (see `backfill`). */
const SEAM_MARGIN_MS = 1_000;

/** Messages a seam probe takes from the live queue's head (and hands back) to find an original. */
const SEAM_PROBE_MESSAGES = 50;

/** Probes of the live queue's head that found messages; each returns them (one more delivery). */
const SEAM_PROBES_MAX = 3;

/** Ids of the messages a backfill read last, kept to tell whether it passed the seam already. */
const SEAM_RECENT_IDS = 100_000;

/**
 * A message created this long after the backfill started was routed after the bind, so after
 * everything routed before it: the fallback stop when no seam was met (the seam was read
 * before it was found and has left the recent ids, or none could be found). It allows for
 * the clocks of the publisher's and the consumer's hosts to differ by as much.
 */
const SEAM_CLOCK_SKEW_MS = 30_000;

/**
 * The empty queue whose existence records that `queue` finished its backfill: broker-side
 * state, so any service can opt in without a table, and gone with the vhost.
 */
export const backfilledMarkerOf = (queue: string): string => `${queue}.backfilled`;

/** A delivery gathered for a batch, parsed. */
interface Gathered {
  delivery: ConsumeMessage;
  parsed: ParsedDelivery;
}

/** A queue's deliveries waiting for its next batch, and how many batches are being handled. */
interface GatheringQueue {
  deliveries: { channel: ConfirmChannel; delivery: ConsumeMessage }[];
  workers: number;
}

/** A backfill under way: the stream, messages read so far and, after a failure, why. */
interface BackfillState {
  stream: string;
  read: number;
  problem?: string;
}

export interface ConsumerOptions {
  /** The consuming service: it owns the queues and the exchanges named after it. */
  service: ServiceName;
  connection: BrokerConnection;
  logger: Logger;
  metrics: MessagingMetrics;
  subscriptions: Subscription[];
  /** Deliveries in flight per queue, and the largest batch of a queue with a batch handler. */
  prefetch?: number;
  retryDelaysMs?: readonly number[];
  faults?: FaultSwitches;
  /** Deliveries handled at once across all queues; keep it below the database pool size. */
  maxConcurrentHandlers?: number;
  /** Replicas of each quorum queue declared (RABBITMQ_QUORUM_REPLICAS); unset: the broker's default. */
  quorumReplicas?: number | undefined;
  /**
   * A backfill takes the history stream's end as reached when it delivers nothing for this
   * long while no message of it is in flight (default 1,000 ms; see `backfill`).
   */
  backfillIdleMs?: number;
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
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly consumerTags = new Map<ConfirmChannel, string[]>();
  private stopping = false;
  private consuming = false;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private statsChannel: Promise<Channel> | undefined;
  /** Queues whose consumer the broker cancelled, with why they are not consumed again yet. */
  private readonly deaf = new Map<string, string>();
  /** Queues catching up from a history stream before they are consumed. */
  private readonly backfills = new Map<string, BackfillState>();
  private readonly backfillChannels = new Set<ConfirmChannel>();
  /** Per queue with a batch handler: the deliveries waiting for the next batch. */
  private readonly gathering = new Map<string, GatheringQueue>();

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
        this.backfills.clear();
        for (const subscription of options.subscriptions) {
          // Asked before the queue is declared: a queue made now has missed everything before.
          const backfill = subscription.backfillFrom
            ? await this.backfillNeeded(subscription.queue)
            : false;
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
          if (backfill && subscription.backfillFrom) {
            this.startBackfill(channel, subscription, subscription.backfillFrom);
            continue;
          }
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

  /** The queues still catching up from a history stream, each with how far it got. */
  backfilling(): Record<string, string> {
    return Object.fromEntries(
      [...this.backfills].map(([queue, state]) => [
        queue,
        `reading ${state.stream}: ${state.read} messages so far` +
          (state.problem ? `; ${state.problem}` : ''),
      ]),
    );
  }

  /**
   * Whether `queue` still has to catch up: always when it does not exist yet (it has missed
   * everything before), else unless its backfilled marker says an earlier run finished. A
   * run cut short (crash, lost connection) left no marker and starts again from the first
   * offset; the inbox absorbs what it handled before.
   */
  private async backfillNeeded(queue: string): Promise<boolean> {
    const connection = this.options.connection.channelModel();
    if (!connection) throw new Error('not connected');
    if (!(await queueExists(connection, queue))) return true;
    return !(await queueExists(connection, backfilledMarkerOf(queue)));
  }

  /**
   * Backfills `subscription` from `stream` on a channel of its own, then records it done and
   * consumes the live queue on `channel`. A failed backfill (a refused stream, a handler
   * that could not settle) starts again with backoff while `channel` lives; a lost
   * connection ends it, and the next connection's setup decides afresh.
   */
  private startBackfill(channel: ConfirmChannel, subscription: Subscription, stream: string): void {
    const { logger } = this.options;
    const { queue } = subscription;
    const state: BackfillState = { stream, read: 0 };
    this.backfills.set(queue, state);
    const current = () =>
      !this.stopping && this.consumerTags.has(channel) && this.backfills.get(queue) === state;
    void (async () => {
      for (let attempt = 1; current(); attempt += 1) {
        const started = Date.now();
        try {
          logger.info({ queue, stream, attempt }, 'backfilling from the history stream');
          const result = await this.backfill(subscription, stream, state);
          if (!current()) return;
          await this.markBackfilled(queue);
          this.backfills.delete(queue);
          logger.info(
            { queue, stream, ...result, seconds: (Date.now() - started) / 1000 },
            'backfill finished; consuming the live queue',
          );
          await this.subscribe(channel, subscription);
          return;
        } catch (err) {
          if (!current()) return;
          state.problem = `failed (${err instanceof Error ? err.message : String(err)}); retrying`;
          logger.error({ err, queue, stream, attempt }, 'backfill failed; will start again');
          await delay(backoffDelay(attempt, RESUBSCRIBE_FIRST_DELAY_MS, 30_000));
          state.read = 0;
        }
      }
    })().catch((err: unknown) => logger.error({ err, queue }, 'backfill ended unexpectedly'));
  }

  /**
   * Declares the queue's backfilled marker, on a channel of its own: a declaration the broker
   * refuses closes its channel, and the consumer's channel carries every queue's deliveries.
   */
  private markBackfilled(queue: string): Promise<void> {
    return onProbeChannel(this.options.connection.channelModel(), async (probe) => {
      await probe.assertQueue(backfilledMarkerOf(queue), {
        durable: true,
        arguments: { 'x-queue-type': 'classic', 'x-max-length': 0 },
      });
    });
  }

  /**
   * Reads `stream` from its first offset and handles each message as if it came from the
   * live queue (same handlers, same inbox name), skipping types the queue does not take.
   *
   * Where it stops (the seam): the live queue was bound before this starts, so every
   * message routed since is in the queue too, and only those routed before need reading
   * here. Stopping anywhere after the last of them loses nothing (what is read twice is
   * absorbed by the inbox); stopping before one leaves a gap. It stops at whichever comes
   * first:
   * - the stream's end: nothing delivered for `backfillIdleMs` while nothing was in flight.
   *   Everything routed before the bind was in the stream long before;
   * - the seam message, plus a margin: the first original message (not a copy moved back by
   *   a retry) found at the live queue's head, taken with basic.get and handed straight back
   *   (one extra delivery count on it, `redelivered` on its next delivery). It was routed
   *   after the bind, so it sits in the stream after everything routed before; reading on
   *   for `SEAM_MARGIN_MS` more covers a message still on its way inside the broker. The
   *   reader may have passed the seam before the look found it: the last
   *   `SEAM_RECENT_IDS` ids read tell;
   * - failing both, the first message read that was created `SEAM_CLOCK_SKEW_MS` after the
   *   backfill started (so routed after the bind), which ends a backfill under continuous
   *   traffic whatever happened to the seam.
   * Resolves once every message read was settled (acked, retried or parked); throws when
   * one could not be, so the whole backfill runs again rather than leave a hole.
   */
  private async backfill(
    subscription: Subscription,
    stream: string,
    state: BackfillState,
  ): Promise<{ read: number; seam: string }> {
    const { options } = this;
    const connection = options.connection.channelModel();
    if (!connection) throw new Error('not connected');
    const idleMs = options.backfillIdleMs ?? 1_000;
    const channel = await connection.createConfirmChannel();
    channel.on('error', (err: Error) => options.logger.warn({ err }, 'backfill channel error'));
    this.backfillChannels.add(channel);
    const inFlight = new Set<Promise<boolean>>();
    let unsettled = 0;
    let seam: string | undefined;
    let probes = 0;
    let seamMetAt: number | undefined;
    const startedAt = Date.now();
    const recent = new Set<unknown>();
    let stoppedBy = 'the end of the stream';
    try {
      // A stream consumer needs a prefetch and manual acks; an ack only gives credit back.
      await channel.prefetch(options.prefetch ?? 10);
      await new Promise<void>((resolve, reject) => {
        let finished = false;
        let idle: NodeJS.Timeout | undefined;
        let probing = false;
        const finish = (err?: Error) => {
          if (finished) return;
          finished = true;
          clearTimeout(idle);
          clearInterval(prober);
          if (err) reject(err);
          else resolve();
        };
        const armIdle = () => {
          clearTimeout(idle);
          if (inFlight.size === 0) idle = setTimeout(() => finish(), idleMs);
        };
        const probe = async () => {
          if (seam !== undefined || probing || probes >= SEAM_PROBES_MAX || finished) return;
          probing = true;
          try {
            const found = await this.seamOf(connection, subscription.queue);
            if (found.taken > 0) probes += 1;
            seam = found.seam;
            if (seam !== undefined && recent.has(seam)) seamMetAt ??= Date.now();
          } catch (err) {
            options.logger.warn({ err }, 'could not look at the live queue for the seam');
          } finally {
            probing = false;
          }
        };
        const prober = setInterval(() => void probe(), idleMs);
        channel.on('close', () => finish(new Error('backfill channel closed')));
        void probe()
          .then(() =>
            channel.consume(
              stream,
              (delivery) => {
                if (finished || this.stopping) return;
                if (!delivery) {
                  finish(new Error(`the broker cancelled the consumer of ${stream}`));
                  return;
                }
                clearTimeout(idle);
                state.read += 1;
                const id = delivery.properties.messageId as unknown;
                if (seam === undefined) {
                  recent.add(id);
                  if (recent.size > SEAM_RECENT_IDS) recent.delete(recent.values().next().value);
                } else if (id === seam) {
                  seamMetAt ??= Date.now();
                }
                if (createdAtMs(delivery) > startedAt + SEAM_CLOCK_SKEW_MS) {
                  seamMetAt ??= Date.now() - SEAM_MARGIN_MS;
                }
                const work = this.limited(() =>
                  this.traced(channel, subscription, delivery, 'backfill'),
                );
                this.track(work);
                inFlight.add(work);
                void work.then((settled) => {
                  inFlight.delete(work);
                  if (!settled) unsettled += 1;
                  if (!finished) armIdle();
                });
                if (seamMetAt !== undefined && Date.now() - seamMetAt >= SEAM_MARGIN_MS) {
                  stoppedBy = `the seam ${seam ?? ''}`;
                  finish();
                }
              },
              { noAck: false, arguments: { 'x-stream-offset': 'first' } },
            ),
          )
          .then(armIdle, (err: Error) => finish(err));
      });
      await Promise.allSettled([...inFlight]);
      if (unsettled > 0) throw new Error(`${unsettled} backfilled messages could not be settled`);
      return { read: state.read, seam: stoppedBy };
    } finally {
      this.backfillChannels.delete(channel);
      await channel.close().catch(() => undefined);
    }
  }

  /**
   * The id of the first original message at the live queue's head (undefined if none):
   * takes up to `SEAM_PROBE_MESSAGES` without acking and hands them all back. A copy this
   * service moved back through its retry exchange is no seam: its original was routed
   * long before.
   */
  private seamOf(
    connection: NonNullable<ReturnType<BrokerConnection['channelModel']>>,
    queue: string,
  ): Promise<{ seam: string | undefined; taken: number }> {
    return onProbeChannel(connection, async (probe) => {
      let seam: string | undefined;
      let taken = 0;
      while (seam === undefined && taken < SEAM_PROBE_MESSAGES) {
        const message = await probe.get(queue, { noAck: false });
        if (!message) break;
        taken += 1;
        const copied = message.properties.headers?.[RetryHeaders.originalUserId] !== undefined;
        const id: unknown = message.properties.messageId;
        if (!copied && typeof id === 'string' && id !== '') seam = id;
      }
      if (taken > 0) probe.nackAll(true);
      return { seam, taken };
    });
  }

  /**
   * Consumes one subscription's queue on `channel`. A `null` delivery is the broker
   * cancelling the consumer (the queue was deleted, a quorum queue lost its leader):
   * left alone, the service would look healthy while events, which are not mandatory,
   * are dropped for want of a queue. So it declares the queue again and re-subscribes,
   * retrying with backoff, and meanwhile readiness names the queue.
   */
  private async subscribe(channel: ConfirmChannel, subscription: Subscription): Promise<void> {
    const batches = subscription.handlers.some((binding) => binding.handleBatch);
    const { consumerTag } = await channel.consume(subscription.queue, (delivery) => {
      if (delivery) {
        if (batches) this.gather(channel, subscription, delivery);
        else this.track(this.limited(() => this.traced(channel, subscription, delivery)));
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
        // A queue deleted and made again missed what was published meanwhile: with a
        // history to read, it catches up first.
        const connection = this.options.connection.channelModel();
        const recreated =
          subscription.backfillFrom !== undefined &&
          connection !== undefined &&
          !(await queueExists(connection, queue));
        // Declared on a channel of its own: a declaration the broker refuses closes its
        // channel, and the consumer's channel carries every other queue's deliveries.
        await this.declareOnProbe(subscription);
        if (recreated && subscription.backfillFrom) {
          this.deaf.delete(queue);
          logger.warn({ queue, attempt }, 'queue made again: catching up from the history first');
          this.startBackfill(channel, subscription, subscription.backfillFrom);
          return;
        }
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

  private declareOnProbe(subscription: Subscription): Promise<void> {
    return onProbeChannel(this.options.connection.channelModel(), (probe) =>
      declareConsumerQueue(
        probe,
        { name: subscription.queue, bindings: bindingsOf(subscription) },
        this.retryDelaysMs,
        { service: this.options.service, quorumReplicas: this.options.quorumReplicas },
      ),
    );
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
    // A backfill cut short leaves no marker: the next start reads the stream again.
    for (const channel of this.backfillChannels) await channel.close().catch(() => undefined);
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
  private async limited<T>(work: () => Promise<T>): Promise<T> {
    const limit = this.options.maxConcurrentHandlers ?? Number.POSITIVE_INFINITY;
    if (this.running >= limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running += 1;
    try {
      return await work();
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }

  /**
   * Group commit for a queue with a batch handler: a delivery that arrives while fewer
   * than `BATCH_WORKERS` of the queue's batches are being handled is handled at once (in
   * the next turn of the event loop, with any that came in the same socket read);
   * deliveries that arrive while all are busy wait and go together as the next batch. At
   * low load nothing waits for company; under load the batches grow by themselves, up to
   * the prefetch.
   */
  private gather(channel: ConfirmChannel, subscription: Subscription, delivery: ConsumeMessage) {
    const { queue } = subscription;
    let group = this.gathering.get(queue);
    if (!group) {
      group = { deliveries: [], workers: 0 };
      this.gathering.set(queue, group);
    }
    group.deliveries.push({ channel, delivery });
    if (group.workers < BATCH_WORKERS) this.drain(subscription, group);
  }

  private drain(subscription: Subscription, group: GatheringQueue): void {
    group.workers += 1;
    const turn = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      try {
        await this.handleWaiting(subscription, group);
      } finally {
        group.workers -= 1;
      }
    });
    this.track(turn);
  }

  /** Handles the queue's waiting deliveries, batch after batch, until none are left. */
  private async handleWaiting(subscription: Subscription, group: GatheringQueue): Promise<void> {
    while (group.deliveries.length > 0) {
      const taken = group.deliveries.splice(0);
      // Deliveries of a channel lost meanwhile come again on the next; each is handled
      // (and acked) on the channel it came on.
      for (const channel of new Set(taken.map((item) => item.channel))) {
        const deliveries = taken.filter((item) => item.channel === channel);
        const [only] = deliveries;
        if (deliveries.length === 1 && only) {
          await this.limited(() => this.traced(channel, subscription, only.delivery));
        } else {
          const batch = deliveries.map((item) => item.delivery);
          await this.limited(() => this.handleGathered(channel, subscription, batch));
        }
      }
    }
  }

  /**
   * Handles deliveries that arrived together: those of a type with a batch handler in one
   * call of it (one transaction), the rest (other types, a message id seen twice, one that
   * does not parse) one by one, as ever.
   */
  private async handleGathered(
    channel: ConfirmChannel,
    subscription: Subscription,
    deliveries: ConsumeMessage[],
  ): Promise<void> {
    const alone: ConsumeMessage[] = [];
    const batches = new Map<HandlerBinding, Gathered[]>();
    const ids = new Set<unknown>();
    for (const delivery of deliveries) {
      const type = typeLabelOf(delivery.properties.type);
      const binding = subscription.handlers.find((handler) => handler.type === type);
      const id: unknown = delivery.properties.messageId;
      let parsed: ParsedDelivery | undefined;
      try {
        if (binding?.handleBatch && !ids.has(id)) {
          parsed = parseDelivery(
            subscription.handlers,
            subscription.queue,
            delivery,
            this.options.connection.username,
          );
        }
      } catch {
        // The single path parks it, with the reason.
      }
      if (!binding || !parsed) {
        alone.push(delivery);
        continue;
      }
      ids.add(id);
      batches.set(binding, [...(batches.get(binding) ?? []), { delivery, parsed }]);
    }
    for (const [binding, batch] of batches) {
      if (batch.length === 1) alone.push(...batch.map((item) => item.delivery));
      else await this.handleBatch(channel, subscription, binding, batch);
    }
    for (const delivery of alone) await this.traced(channel, subscription, delivery);
  }

  /**
   * One batch: the fault switches per message, the batch handler (one transaction), then
   * the acks, only after it committed. When it throws, each message is handled alone: its
   * own retries and parking apply, and whatever the batch committed before it failed comes
   * back as a duplicate the inbox absorbs.
   */
  private async handleBatch(
    channel: ConfirmChannel,
    subscription: Subscription,
    binding: HandlerBinding,
    batch: Gathered[],
  ): Promise<void> {
    const { metrics, faults } = this.options;
    const { queue } = subscription;
    const { type } = binding;
    const handleBatch = binding.handleBatch;
    if (!handleBatch) return;
    const started = process.hrtime.bigint();
    const messages = batch.map(({ delivery, parsed }) => {
      if (delivery.fields.redelivered) metrics.redelivered.inc({ queue });
      const attempt = attemptOf(delivery.properties);
      return {
        envelope: parsed.envelope,
        payload: parsed.payload,
        queue,
        inbox: { consumer: queue, messageId: parsed.envelope.messageId, type },
        attempt,
        redelivered: delivery.fields.redelivered,
        logger: this.options.logger.child({
          queue,
          type,
          messageId: parsed.envelope.messageId,
          correlationId: delivery.properties.correlationId,
          attempt,
        }),
      };
    });
    let outcomes: (HandlerOutcome | void)[];
    try {
      outcomes = await withSpan(
        `${queue} process`,
        {
          kind: SpanKind.CONSUMER,
          parent: batch[0]?.delivery.properties.headers?.traceparent as string | undefined,
          links: batch
            .slice(1)
            .map(({ delivery }) => delivery.properties.headers?.traceparent as string | undefined),
          attributes: {
            'messaging.system': 'rabbitmq',
            'messaging.operation.type': 'process',
            'messaging.consumer.group.name': queue,
            'messaging.batch.message_count': batch.length,
            'message.type': type,
          },
        },
        async () => {
          // As for deliveries handled side by side: delays overlap, a failure fails the batch.
          await Promise.all(messages.map((message) => faults?.beforeHandle(type, message.attempt)));
          const result = await handleBatch(messages);
          if (result.length !== messages.length)
            throw new Error(`batch handler answered ${result.length} of ${messages.length}`);
          return result;
        },
      );
    } catch (err) {
      metrics.batchFallbacks.inc({ queue, type });
      this.options.logger.warn(
        { err, queue, type, messages: batch.length },
        'batch failed; handling its messages one by one',
      );
      for (const { delivery } of batch) await this.traced(channel, subscription, delivery);
      return;
    }
    faults?.afterHandle(type);
    metrics.batchSize.observe({ queue, type }, batch.length);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    for (const [index, { delivery }] of batch.entries()) {
      ack(channel, delivery, this.options.logger);
      metrics.consumed.inc({ queue, type, outcome: outcomes[index] ?? 'processed' });
      metrics.handlerSeconds.observe({ queue, type }, seconds);
      await faults?.midBatch(type, index + 1, batch.length);
    }
  }

  private track(work: Promise<unknown>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** Handles a delivery in a consumer span, the child of the span that published it. */
  private traced(
    channel: ConfirmChannel,
    subscription: Subscription,
    delivery: ConsumeMessage,
    source: 'live' | 'backfill' = 'live',
  ): Promise<boolean> {
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
          'app.backfill': source === 'backfill',
        },
      },
      () => this.onDelivery(channel, subscription, delivery, source),
    );
  }

  /**
   * Handles one delivery: from the live queue, or, when `source` is `backfill`, from a
   * history stream, with the same handlers and the same inbox name (the live queue's), its
   * retries and parking going to the live queue's companions. Resolves false when the
   * delivery could not be settled.
   */
  private async onDelivery(
    channel: ConfirmChannel,
    subscription: Subscription,
    delivery: ConsumeMessage,
    source: 'live' | 'backfill' = 'live',
  ): Promise<boolean> {
    const metrics =
      source === 'backfill'
        ? { ...this.options.metrics, consumed: this.options.metrics.backfilled }
        : this.options.metrics;
    const queue = subscription.queue;
    const started = process.hrtime.bigint();
    // A label from a known type only: the raw property is the sender's to choose, and a
    // label per value would let any sender grow the metrics without bound.
    const type = typeLabelOf(delivery.properties.type);
    if (source === 'backfill' && !subscription.handlers.some((h) => h.type === type)) {
      // The stream holds every event of its exchange; this queue takes only some.
      ack(channel, delivery, this.options.logger);
      metrics.consumed.inc({ queue, type, outcome: 'skipped' });
      return true;
    }
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
        return true;
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
          return true;
        }
        await this.retryOrPark(channel, queue, delivery, attempt, err, logger, metrics);
      }
      return true;
    } catch (err) {
      // Moving the message failed (channel or broker gone): leave it unacknowledged so
      // the broker redelivers it; the inbox absorbs a second effect.
      logger.warn({ err }, 'could not settle delivery; it will be redelivered');
      return false;
    }
  }

  private async retryOrPark(
    channel: ConfirmChannel,
    queue: string,
    delivery: ConsumeMessage,
    attempt: number,
    err: unknown,
    logger: Logger,
    metrics: Pick<MessagingMetrics, 'consumed'> = this.options.metrics,
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
      metrics.consumed.inc({ queue, type, outcome: 'retried' });
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
    metrics.consumed.inc({ queue, type, outcome: 'dead-lettered' });
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

/** When the sender made a message: `x-timestamp-ms`, else the `timestamp` property (seconds). */
function createdAtMs(delivery: ConsumeMessage): number {
  const { headers, timestamp } = delivery.properties;
  const ms = Number(headers?.['x-timestamp-ms'] ?? Number(timestamp) * 1000);
  return Number.isFinite(ms) ? ms : 0;
}

/** The message type as a metrics label and log field: a contract type, else `unknown`. */
function typeLabelOf(type: unknown): string {
  return isMessageType(type) ? type : 'unknown';
}
