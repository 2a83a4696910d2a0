import type { ConfirmChannel, Message, MessageProperties, Options } from 'amqplib';
import type { Logger } from '@app/runtime';

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

/** Sends `content` to `queue` through the default exchange and waits for the confirm. */
export function sendConfirmed(
  channel: ConfirmChannel,
  queue: string,
  content: Buffer,
  options: Options.Publish,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    channel.sendToQueue(queue, content, options, (err) =>
      err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
    );
  });
}

/**
 * Moves a delivery to another queue: a confirmed copy, then the ack. The copy carries the
 * mover's user id; the original sender's is kept in `x-original-user-id`.
 */
export async function moveTo(
  channel: ConfirmChannel,
  target: string,
  delivery: Message,
  headers: Record<string, unknown>,
  ownUser: string,
  logger: Logger,
): Promise<void> {
  const { properties } = delivery;
  const options = copiedProperties(
    properties,
    {
      ...properties.headers,
      ...(properties.userId ? { [RetryHeaders.originalUserId]: properties.userId } : {}),
      ...headers,
    },
    ownUser,
  );
  await sendConfirmed(channel, target, delivery.content, options);
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
