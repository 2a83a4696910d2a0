import type { MessageProperties } from 'amqplib';
import type { z } from 'zod';
import {
  EnvelopeSchema,
  Headers,
  JSON_CONTENT_TYPE,
  Messages,
  ServiceNames,
  isMessageType,
  type Envelope,
  type MessageType,
} from '@app/contracts';
import { InvalidMessageError } from './errors';
import { RetryHeaders, originalSenderOf } from './settle';
import type { HandlerBinding } from './subscription';

/** What the parser needs of a delivery: its properties and its body. */
export interface RawDelivery {
  properties: MessageProperties;
  content: Buffer;
}

/** A delivery the parser accepted: the handler for its type, its envelope and payload. */
export interface ParsedDelivery {
  binding: HandlerBinding;
  envelope: Envelope;
  payload: unknown;
}

/** A delivery that can never be processed: it is parked at once, never retried. */
export class PoisonMessage extends InvalidMessageError {}

/** 1 on a message's first try, 2 after its first retry, and so on. */
export function attemptOf(properties: MessageProperties): number {
  return Number(properties.headers?.[RetryHeaders.attempt] ?? 0) + 1;
}

/**
 * Parses and checks a delivery taken from `queue`: a known type with a handler there, JSON,
 * a valid envelope, a sender the contract allows and the broker vouched for (see
 * `verifySender`), and a payload its schema accepts. Pure; throws `PoisonMessage`.
 */
export function parseDelivery(
  handlers: readonly HandlerBinding[],
  queue: string,
  delivery: RawDelivery,
  ownUser: string,
): ParsedDelivery {
  const { properties } = delivery;
  const type: unknown = properties.type;
  if (!isMessageType(type)) throw new PoisonMessage(`unknown message type ${JSON.stringify(type)}`);
  const binding = handlers.find((h) => h.type === type);
  if (!binding) throw new PoisonMessage(`no handler for ${type} on ${queue}`);
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
export function verifySender(
  type: MessageType,
  envelope: Envelope,
  headers: Record<string, unknown>,
  ownUser: string,
): void {
  if (!envelope.userId)
    throw new PoisonMessage(`${type} has no userId: its sender cannot be verified`);
  const claimed = originalSenderOf({ userId: envelope.userId, headers }, ownUser);
  if (!claimed) {
    throw new PoisonMessage(
      `${type} is a copy whose original sender is unknown: it cannot be verified`,
    );
  }
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
