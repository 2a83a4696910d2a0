import type { Channel, ConfirmChannel, GetMessage, Options } from 'amqplib';
import {
  RetryHeaders,
  copiedProperties,
  deadLetterQueueOf,
  originalSenderOf,
  sendConfirmed,
} from '@app/broker';

/** Counts how often a message was sent back from its dead-letter queue. */
export const REPLAYED_HEADER = 'x-replayed';

/** One message parked in a `<queue>.dead` queue, as `listDeadLetters` shows it. */
export interface DeadLetter {
  messageId: string | undefined;
  type: string | undefined;
  correlationId: string | undefined;
  /**
   * Why it was parked: `failed` (its handler kept failing) or `invalid` (it can never be
   * processed), as the consumer wrote it; the broker's reason (for example
   * `delivery_limit`) for a message the broker dead-lettered itself; else `unknown`.
   */
  reason: string;
  lastError: string | undefined;
  /** Handler attempts before it was parked, when the consumer recorded them. */
  attempts: number | undefined;
  deadAt: Date | undefined;
  ageMs: number | undefined;
  /** The queue a replay sends it back to. */
  originalQueue: string;
  /** Times it was replayed before. */
  replayed: number;
}

/** The queue named does not exist (the broker answered NOT_FOUND to a passive declare). */
export class QueueNotFoundError extends Error {
  constructor(readonly queue: string) {
    super(`no queue named ${queue}`);
    this.name = 'QueueNotFoundError';
  }
}

/**
 * A replay stopped part-way: the broker refused a copy or could not route it (its
 * original queue is gone). That message and the ones not yet replayed stay parked.
 */
export class ReplayError extends Error {
  constructor(
    message: string,
    /** Messages replayed (and removed from the dead-letter queue) before it stopped. */
    readonly replayed: number,
  ) {
    super(message);
    this.name = 'ReplayError';
  }
}

/**
 * The dead-letter queue of `queue` and the queue it belongs to; `queue` may be given as
 * either, `invoicing.new-order` or `invoicing.new-order.dead`.
 */
export function deadLetterQueueNames(queue: string): { queue: string; deadQueue: string } {
  const suffix = deadLetterQueueOf('');
  return queue.endsWith(suffix)
    ? { queue: queue.slice(0, -suffix.length), deadQueue: queue }
    : { queue, deadQueue: deadLetterQueueOf(queue) };
}

/**
 * Messages waiting in the dead-letter queue of `queue`, oldest parked first as the queue
 * holds them. Nothing is lost: each message is fetched unacknowledged and all are handed
 * back to the queue afterwards. Throws `QueueNotFoundError` (and the broker closes the
 * channel) when there is no such queue.
 */
export async function listDeadLetters(
  channel: Channel,
  queue: string,
  now: number = Date.now(),
): Promise<DeadLetter[]> {
  const names = deadLetterQueueNames(queue);
  const taken = await takeAll(channel, names.deadQueue);
  try {
    return taken.map((message) => toDeadLetter(message, names.queue, now));
  } finally {
    requeue(channel, taken);
    await settled(channel, names.deadQueue);
  }
}

/**
 * Sends the dead letters of `queue` (all, or only the one whose messageId is `id`) back
 * to their original queue through the default exchange, with publisher confirms. Each
 * copy keeps the message's properties and headers (messageId, type, correlationId,
 * appId, traceparent, x-causation-id, …) minus the retry and dead-letter headers, so it
 * gets a fresh set of retries; `x-replayed` counts the replays. Pass `userId`, the replaying
 * connection's user: the broker refuses any other, and the consumer accepts the copy as
 * its own only from its own user. Provenance is taken only from what the broker vouched
 * for: the parked message's `userId`, or, on a copy the consuming service parked itself
 * (its own `userId`), the original sender it recorded; a message whose sender cannot be
 * established stays parked (`ReplayError`), and the consumer checks the sender against the
 * contract as for a fresh message. Replay as the consuming service. A parked message
 * is acknowledged (removed) only after its copy was confirmed; the others go back to the
 * dead-letter queue. Returns how many were replayed; throws `ReplayError` if the broker
 * refused or could not route a copy.
 */
export async function replayDeadLetters(
  channel: ConfirmChannel,
  queue: string,
  options: { id?: string; userId?: string } = {},
): Promise<number> {
  const names = deadLetterQueueNames(queue);
  const taken = await takeAll(channel, names.deadQueue);
  const acked = new Set<GetMessage>();
  let replayed = 0;
  try {
    for (const message of taken) {
      if (options.id !== undefined && message.properties.messageId !== options.id) continue;
      // The queue comes from the dead-letter queue's own name, never from a header the
      // message brought; so does nothing else that decides where it goes or who sent it.
      await republish(channel, names.queue, message, replayed, options.userId);
      channel.ack(message);
      acked.add(message);
      replayed += 1;
    }
    return replayed;
  } finally {
    requeue(
      channel,
      taken.filter((message) => !acked.has(message)),
    );
    await settled(channel, names.deadQueue);
  }
}

/**
 * Removes every message waiting in the dead-letter queue of `queue`, for good. Returns
 * how many were removed. Throws `QueueNotFoundError` when there is no such queue.
 */
export async function purgeDeadLetters(channel: Channel, queue: string): Promise<number> {
  const { deadQueue } = deadLetterQueueNames(queue);
  await checkQueue(channel, deadQueue);
  const { messageCount } = await channel.purgeQueue(deadQueue);
  return messageCount;
}

/**
 * Messages waiting in the dead-letter queue of `queue`. Throws `QueueNotFoundError` when
 * there is no such queue.
 */
export async function countDeadLetters(channel: Channel, queue: string): Promise<number> {
  return (await checkQueue(channel, deadLetterQueueNames(queue).deadQueue)).messageCount;
}

async function checkQueue(channel: Channel, queue: string): Promise<{ messageCount: number }> {
  try {
    return await channel.checkQueue(queue);
  } catch (err) {
    if ((err as { code?: unknown }).code === 404) throw new QueueNotFoundError(queue);
    throw err;
  }
}

/**
 * Fetches, unacknowledged, the messages waiting now. The count taken first bounds the
 * loop, so messages parked meanwhile (a replayed message that fails again, say) are left
 * for the next run instead of being taken in a loop.
 */
async function takeAll(channel: Channel, deadQueue: string): Promise<GetMessage[]> {
  const { messageCount } = await checkQueue(channel, deadQueue);
  const taken: GetMessage[] = [];
  try {
    while (taken.length < messageCount) {
      const message = await channel.get(deadQueue, { noAck: false });
      if (!message) break;
      taken.push(message);
    }
  } catch (err) {
    requeue(channel, taken);
    throw err;
  }
  return taken;
}

/**
 * Waits for a round trip on the channel, which the broker answers only after the acks and
 * nacks sent before it. They have no reply of their own, and a caller that closed the
 * connection right after them was seen to lose an ack: the broker handed the message
 * back to the dead-letter queue although its copy had been replayed.
 */
async function settled(channel: Channel, deadQueue: string): Promise<void> {
  await channel.checkQueue(deadQueue).catch(() => undefined);
}

/** Hands messages back to their queue; on a closed channel the broker has done so already. */
function requeue(channel: Channel, messages: GetMessage[]): void {
  try {
    for (const message of messages) channel.nack(message, false, true);
  } catch {
    // The channel is closed: its unacknowledged messages went back to the queue with it.
  }
}

function toDeadLetter(message: GetMessage, queue: string, now: number): DeadLetter {
  const { properties } = message;
  const headers = properties.headers ?? {};
  const lastDeath = brokerDeaths(headers)[0];
  const deadAt = dateOf(headers[RetryHeaders.deadAt]) ?? dateOf(lastDeath?.time);
  const attempts = Number(headers[RetryHeaders.attempt]);
  return {
    messageId: stringOf(properties.messageId),
    type: stringOf(properties.type),
    correlationId: stringOf(properties.correlationId),
    reason: stringOf(headers[RetryHeaders.deadReason]) ?? stringOf(lastDeath?.reason) ?? 'unknown',
    lastError: stringOf(headers[RetryHeaders.lastError]),
    attempts: Number.isFinite(attempts) ? attempts : undefined,
    deadAt,
    ageMs: deadAt ? Math.max(0, now - deadAt.getTime()) : undefined,
    originalQueue: queue,
    replayed: Number(headers[REPLAYED_HEADER] ?? 0) || 0,
  };
}

/** Headers describing the previous trip through retry and dead-letter queues. */
const DEAD_LETTER_HEADERS: readonly string[] = [
  RetryHeaders.attempt,
  RetryHeaders.lastError,
  RetryHeaders.deadReason,
  RetryHeaders.deadQueue,
  RetryHeaders.deadAt,
  // Written by the broker when it dead-letters or redelivers.
  'x-death',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  'x-last-death-exchange',
  'x-last-death-queue',
  'x-last-death-reason',
  'x-delivery-count',
];

async function republish(
  channel: ConfirmChannel,
  target: string,
  message: GetMessage,
  replayedSoFar: number,
  userId: string | undefined,
): Promise<void> {
  const { properties } = message;
  const sender = userId ? originalSenderOf(properties, userId) : undefined;
  if (!sender) {
    throw new ReplayError(
      `${describeMessage(message)} has no sender the broker vouched for (no userId, or a copy without its original sender); it stays parked`,
      replayedSoFar,
    );
  }
  const headers: Record<string, unknown> = { ...properties.headers };
  for (const name of DEAD_LETTER_HEADERS) delete headers[name];
  // The consumer checks this sender against the contract as for a fresh message.
  headers[RetryHeaders.originalUserId] = sender;
  headers[REPLAYED_HEADER] = (Number(headers[REPLAYED_HEADER] ?? 0) || 0) + 1;
  const options: Options.Publish = {
    ...copiedProperties(properties, headers, userId),
    // Without `mandatory` a copy for a queue that no longer exists would be confirmed and dropped.
    mandatory: true,
  };
  let returned = false;
  const onReturn = (): void => {
    returned = true;
  };
  // One copy is in flight at a time, so a basic.return (sent before its confirm) is this one's.
  channel.on('return', onReturn);
  try {
    await sendConfirmed(channel, 'retry', target, message.content, options).catch(() => {
      throw new ReplayError(refusal(message, target), replayedSoFar);
    });
  } finally {
    channel.off('return', onReturn);
  }
  if (returned) {
    throw new ReplayError(
      `${describeMessage(message)} could not be routed to queue ${target} (does it still exist?); it stays parked`,
      replayedSoFar,
    );
  }
}

function refusal(message: GetMessage, target: string): string {
  return `the broker refused the copy of ${describeMessage(message)} for ${target}; it stays parked`;
}

function describeMessage(message: GetMessage): string {
  return `message ${stringOf(message.properties.messageId) ?? '(no messageId)'}`;
}

interface BrokerDeath {
  reason?: unknown;
  queue?: unknown;
  time?: unknown;
}

/** The broker's `x-death` entries, most recent first. */
function brokerDeaths(headers: Record<string, unknown>): BrokerDeath[] {
  const deaths = headers['x-death'];
  return Array.isArray(deaths) ? (deaths as BrokerDeath[]) : [];
}

function stringOf(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

/** An ISO string, or an AMQP timestamp as amqplib decodes it (`{ '!': 'timestamp', value }` in seconds). */
function dateOf(value: unknown): Date | undefined {
  let date: Date | undefined;
  if (typeof value === 'string') date = new Date(value);
  else if (typeof value === 'object' && value !== null && 'value' in value) {
    date = new Date(Number((value as { value: unknown }).value) * 1000);
  }
  return date && !Number.isNaN(date.getTime()) ? date : undefined;
}
