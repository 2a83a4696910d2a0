import { randomBytes, randomUUID } from 'node:crypto';
import type { Options } from 'amqplib';
import { activeTraceparent } from '@app/telemetry';
import { InvalidMessageError } from './errors';
import {
  Headers,
  JSON_CONTENT_TYPE,
  Messages,
  type Envelope,
  type MessageIntent,
  type MessageType,
  type PayloadOf,
  type ServiceName,
} from '@app/contracts';

/** A message ready to be stored in the outbox or published: body and AMQP properties. */
export interface OutgoingMessage {
  messageId: string;
  type: MessageType;
  exchange: string;
  routingKey: string;
  payload: unknown;
  properties: OutgoingProperties;
}

export interface OutgoingProperties {
  messageId: string;
  type: string;
  correlationId: string;
  appId: ServiceName;
  timestamp: number;
  replyTo?: string;
  causationId?: string;
  traceparent: string;
}

export interface Causation {
  /** The order id the message belongs to. */
  correlationId: string;
  /** The message that caused this one, if any. */
  causationId?: string;
  /** The W3C trace context to continue; a new trace starts without one. */
  traceparent?: string;
  replyTo?: string;
}

/**
 * Builds a message of the contract, validating the payload with the same schema the
 * receivers use, so a sender cannot emit what its receivers would park.
 */
export function buildMessage<T extends MessageType>(
  type: T,
  payload: PayloadOf<T>,
  appId: ServiceName,
  causation: Causation,
): OutgoingMessage {
  const definition = Messages[type];
  const parsed = definition.schema.parse(payload);
  const messageId = randomUUID();
  return {
    messageId,
    type,
    exchange: definition.exchange,
    routingKey: definition.routingKey,
    payload: parsed,
    properties: {
      messageId,
      type,
      correlationId: causation.correlationId,
      appId,
      timestamp: Date.now(),
      // With tracing on, the span active now (the request's or the delivery's) is the parent.
      traceparent: activeTraceparent() ?? childTraceparent(causation.traceparent),
      ...(causation.causationId ? { causationId: causation.causationId } : {}),
      ...(causation.replyTo ? { replyTo: causation.replyTo } : {}),
    },
  };
}

/**
 * The messages a use case decided on, sent by `appId` because of `cause` (the delivery
 * being handled; none for an HTTP request, which starts a trace): same correlation id,
 * the cause's message id as causation, the cause's trace continued.
 */
export function messagesFor(
  intents: readonly MessageIntent[],
  appId: ServiceName,
  cause: Pick<Envelope, 'correlationId' | 'messageId' | 'traceparent'> | { correlationId: string },
): OutgoingMessage[] {
  return intents.map((intent) =>
    buildMessage(intent.type, intent.payload as PayloadOf<typeof intent.type>, appId, {
      correlationId: cause.correlationId,
      ...('messageId' in cause ? { causationId: cause.messageId } : {}),
      ...('traceparent' in cause && cause.traceparent ? { traceparent: cause.traceparent } : {}),
      ...(intent.replyTo ? { replyTo: intent.replyTo } : {}),
    }),
  );
}

/** AMQP publish options for a message: persistent JSON with the contract's properties. */
export function toPublishOptions(properties: OutgoingProperties, userId?: string): Options.Publish {
  return {
    persistent: true,
    contentType: JSON_CONTENT_TYPE,
    contentEncoding: 'utf-8',
    messageId: properties.messageId,
    type: properties.type,
    correlationId: properties.correlationId,
    appId: properties.appId,
    // AMQP timestamps are whole seconds; the millisecond one travels in a header too.
    timestamp: Math.floor(properties.timestamp / 1000),
    ...(properties.replyTo ? { replyTo: properties.replyTo } : {}),
    ...(userId ? { userId } : {}),
    headers: {
      [Headers.traceparent]: properties.traceparent,
      'x-timestamp-ms': properties.timestamp,
      ...(properties.causationId ? { [Headers.causationId]: properties.causationId } : {}),
    },
  };
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Continues the trace of `parent` with a new span id, or starts a new trace. */
export function childTraceparent(parent?: string): string {
  const match = parent ? TRACEPARENT.exec(parent) : null;
  // An all-zero trace id is invalid (W3C Trace Context): start a new trace instead.
  if (match && /^0+$/.test(match[1] ?? '')) return childTraceparent();
  const traceId = match?.[1] ?? randomBytes(16).toString('hex');
  const flags = match?.[3] ?? '01';
  return `00-${traceId}-${randomBytes(8).toString('hex')}-${flags}`;
}

/**
 * A command names where its reply goes. The replier sends only to the exchange the
 * contract defines for that reply, so a command cannot make it write anywhere else.
 */
export function requireReplyTo(
  envelope: { replyTo?: string; type: string },
  reply: MessageType,
): void {
  const expected = Messages[reply].exchange;
  if (envelope.replyTo !== expected) {
    throw new InvalidMessageError(
      `${envelope.type} must carry replyTo ${expected}, not ${envelope.replyTo === undefined ? 'none' : JSON.stringify(envelope.replyTo)}`,
    );
  }
}
