import type { ConfirmChannel, Message, MessageProperties, Options } from 'amqplib';
import type { Logger } from '@app/runtime';
import { moveExchangesOf, ownerOfQueue } from './topology';

/** Headers written on messages moved to a retry or dead-letter queue. */
export const RetryHeaders = {
  attempt: 'x-retry-attempt',
  lastError: 'x-last-error',
  originalUserId: 'x-original-user-id',
  deadReason: 'x-dead-reason',
  deadQueue: 'x-dead-queue',
  deadAt: 'x-dead-at',
} as const;

/** Why a message was parked: it can never be processed, or its handler kept failing. */
export type DeadReason = 'invalid' | 'failed';

/** The headers of a message parked in the dead-letter queue of `queue`. */
export function parkedHeaders(
  queue: string,
  reason: DeadReason,
  error: string,
  attempts: number,
): Record<string, unknown> {
  return {
    [RetryHeaders.deadReason]: reason,
    [RetryHeaders.lastError]: error,
    [RetryHeaders.deadQueue]: queue,
    [RetryHeaders.attempt]: attempts,
    [RetryHeaders.deadAt]: new Date().toISOString(),
  };
}

/**
 * Publish options that carry a received message on unchanged (ids, type, correlation,
 * sender, timestamp, reply address), persistent, with `headers` as given and `userId` the
 * republishing connection's own (the broker allows no other).
 */
export function copiedProperties(
  properties: MessageProperties,
  headers: Record<string, unknown>,
  userId: string | undefined,
): Options.Publish {
  return {
    persistent: true,
    contentType: properties.contentType,
    contentEncoding: properties.contentEncoding,
    messageId: properties.messageId,
    type: properties.type,
    correlationId: properties.correlationId,
    appId: properties.appId,
    timestamp: properties.timestamp,
    replyTo: properties.replyTo,
    priority: properties.priority,
    ...(userId ? { userId } : {}),
    headers,
  };
}

/**
 * Sends `content` to `queue` through its owner's retry or dead exchange (`via`), routed by
 * the queue's name, and waits for the confirm.
 */
export function sendConfirmed(
  channel: ConfirmChannel,
  via: 'retry' | 'dead',
  queue: string,
  content: Buffer,
  options: Options.Publish,
): Promise<void> {
  const exchange = moveExchangesOf(ownerOfQueue(queue))[via];
  return new Promise<void>((resolve, reject) => {
    channel.publish(exchange, queue, content, options, (err) =>
      err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
    );
  });
}

/**
 * Who sent a delivery, as far as the broker vouches for it: its `userId` (the broker refuses
 * a publish whose `userId` is not the connection's user). A message with `ownUser`'s own
 * user id was published by `ownUser` itself (no one else can): either it sent it, or it is a
 * copy `ownUser` moved, on which the mover recorded the original sender in
 * `x-original-user-id` (empty when there was none). Undefined when no sender can be
 * established.
 */
export function originalSenderOf(
  properties: Pick<MessageProperties, 'userId' | 'headers'>,
  ownUser: string,
): string | undefined {
  const userId: unknown = properties.userId;
  if (typeof userId !== 'string' || userId === '') return undefined;
  if (userId !== ownUser) return userId;
  const recorded: unknown = properties.headers?.[RetryHeaders.originalUserId];
  if (recorded === undefined) return ownUser;
  return typeof recorded === 'string' && recorded !== '' ? recorded : undefined;
}

/**
 * Moves a delivery to another of the service's queues: a confirmed copy, then the ack. The
 * copy carries the mover's user id; the sender the broker vouched for is written to
 * `x-original-user-id` (empty if none), replacing whatever the message brought: a header a
 * sender wrote is never taken for provenance.
 */
export async function moveTo(
  channel: ConfirmChannel,
  via: 'retry' | 'dead',
  target: string,
  delivery: Message,
  headers: Record<string, unknown>,
  ownUser: string,
  logger: Logger,
): Promise<void> {
  const { properties } = delivery;
  const { [RetryHeaders.originalUserId]: _claimed, ...rest } = properties.headers ?? {};
  const sender = originalSenderOf(properties, ownUser);
  const options = copiedProperties(
    properties,
    { ...rest, [RetryHeaders.originalUserId]: sender ?? '', ...headers },
    ownUser,
  );
  await sendConfirmed(channel, via, target, delivery.content, options);
  ack(channel, delivery, logger);
}

/**
 * Acks on the channel the delivery came on. After a reconnect that channel is gone; an ack
 * on its replacement would close it (unknown delivery tag), so the ack is dropped and the
 * broker redelivers the message, which the inbox recognises.
 */
export function ack(channel: ConfirmChannel, delivery: Message, logger: Logger): void {
  try {
    channel.ack(delivery);
  } catch (err) {
    logger.warn({ err }, 'ack dropped: channel closed; the message will be redelivered');
  }
}
