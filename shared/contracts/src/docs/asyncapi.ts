import { Exchanges, Messages, ServiceNames, type MessageType } from '../catalog';
import { Queues, type QueueDefinition } from '../consumers';
import { Headers, JSON_CONTENT_TYPE } from '../envelope';
import { jsonSchemaOf, type JsonSchema } from './json-schema';

/** One example message: its envelope (properties and headers) and its payload. */
export interface MessageExample {
  name: string;
  summary: string;
  headers: Record<string, unknown>;
  payload: unknown;
}

export interface AsyncApiOptions {
  /** The examples of each message type (docs/asyncapi.yaml's `examples`). */
  examples: Record<MessageType, MessageExample[]>;
  /** The retry and dead-letter companions of a consumer queue (DESIGN.md section 5). */
  companionsOf: (queue: string) => { retry: string[]; dead: string };
  /** The contract's version, `info.version`. */
  version: string;
}

const AMQP_BINDING_VERSION = '0.3.0';

const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
const exchangeChannelId = (key: string): string => `${key}Exchange`;
const queueChannelId = (key: string): string => `${key}Queue`;
const ref = (path: string): { $ref: string } => ({ $ref: path });

const exchangeKeyOf = (name: string): string => {
  const entry = Object.entries(Exchanges).find(([, exchange]) => exchange.name === name);
  if (!entry) throw new Error(`no exchange ${name} in the catalog`);
  return entry[0];
};

/** The queues that consume a message type. */
export const queuesConsuming = (type: MessageType): [string, QueueDefinition][] =>
  Object.entries(Queues).filter(([, queue]) =>
    (queue.messages as readonly string[]).includes(type),
  );

/**
 * The envelope of a message type (DESIGN.md section 4): AMQP properties and headers. A
 * consumer parks a message whose envelope does not match (no userId, unknown sender, a
 * command without replyTo).
 */
export function envelopeSchemaOf(type: MessageType): JsonSchema {
  const message = Messages[type];
  const isCommand = message.kind === 'command';
  return {
    type: 'object',
    description:
      'AMQP properties (messageId, type, correlationId, timestamp, appId, userId, contentType' +
      `${isCommand ? ', replyTo' : ''}) and application headers (${Headers.causationId}, ` +
      `${Headers.traceparent}, x-timestamp-ms). Messages are persistent (delivery mode 2).`,
    required: [
      'messageId',
      'type',
      'correlationId',
      'timestamp',
      'appId',
      'userId',
      'contentType',
      ...(isCommand ? ['replyTo'] : []),
    ],
    properties: {
      messageId: {
        type: 'string',
        format: 'uuid',
        description: 'Property message_id: unique per message, the deduplication key (inbox)',
      },
      type: { type: 'string', const: type, description: 'Property type: the message type' },
      correlationId: {
        type: 'string',
        description: 'Property correlation_id: the order id',
      },
      timestamp: {
        type: 'integer',
        description: 'Property timestamp: seconds since the epoch (AMQP has whole seconds)',
      },
      appId: {
        type: 'string',
        enum: [...message.senders],
        description: 'Property app_id: the sending service',
      },
      userId: {
        type: 'string',
        enum: [...message.senders],
        description:
          'Property user_id: the sender’s broker user, checked by RabbitMQ; consumers reject a message without it',
      },
      contentType: { type: 'string', const: JSON_CONTENT_TYPE },
      ...(isCommand
        ? {
            replyTo: {
              type: 'string',
              const: Exchanges.orderReplies.name,
              description: 'Property reply_to: the exchange the reply goes to',
            },
          }
        : {}),
      [Headers.causationId]: {
        type: 'string',
        format: 'uuid',
        description: 'Header: the messageId of the message that caused this one, if any',
      },
      [Headers.traceparent]: {
        type: 'string',
        description: 'Header: W3C trace context',
      },
      'x-timestamp-ms': {
        type: 'integer',
        description: 'Header: the timestamp in milliseconds',
      },
    },
  };
}

/** docs/asyncapi.yaml (AsyncAPI 3.0) from the catalog, the queues and the examples. */
export function buildAsyncApi(options: AsyncApiOptions): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};

  for (const [key, exchange] of Object.entries(Exchanges)) {
    const carried = Object.values(Messages).filter((m) => m.exchange === exchange.name);
    channels[exchangeChannelId(key)] = {
      address: exchange.name,
      title: `${exchange.name} (exchange)`,
      description:
        `A durable ${exchange.type} exchange owned (declared, and alone written to) by ` +
        `${exchange.owner}. Carries ${carried.map((m) => `${m.type} (key ${m.routingKey})`).join(', ')}.`,
      messages: Object.fromEntries(
        carried.map((m) => [m.type, ref(`#/components/messages/${m.type}`)]),
      ),
      bindings: {
        amqp: {
          is: 'routingKey',
          exchange: {
            name: exchange.name,
            type: exchange.type,
            durable: true,
            autoDelete: false,
            vhost: '/',
          },
          bindingVersion: AMQP_BINDING_VERSION,
        },
      },
      'x-owner': exchange.owner,
    };
  }

  for (const [key, queue] of Object.entries(Queues) as [string, QueueDefinition][]) {
    const companions = options.companionsOf(queue.name);
    const bindings = queue.messages.map((type) => ({
      exchange: Messages[type].exchange,
      routingKey: Messages[type].routingKey,
    }));
    channels[queueChannelId(key)] = {
      address: queue.name,
      title: `${queue.name} (queue)`,
      description:
        `A durable quorum queue owned and consumed by ${queue.consumer}, bound to ` +
        `${bindings.map((b) => `${b.exchange} with key ${b.routingKey}`).join(', ')}. ` +
        `A failed message waits in ${companions.retry.join(', ')} (TTL, then back here); ` +
        `after the last retry, or at once when it does not parse, it is parked in ${companions.dead}.`,
      messages: Object.fromEntries(
        queue.messages.map((type) => [type, ref(`#/components/messages/${type}`)]),
      ),
      bindings: {
        amqp: {
          is: 'queue',
          queue: {
            name: queue.name,
            durable: true,
            exclusive: false,
            autoDelete: false,
            vhost: '/',
          },
          bindingVersion: AMQP_BINDING_VERSION,
        },
      },
      'x-consumer': queue.consumer,
      'x-bindings': bindings,
      'x-queue-type': 'quorum',
      'x-retry-queues': companions.retry,
      'x-dead-letter-queue': companions.dead,
    };
  }

  for (const message of Object.values(Messages)) {
    const type = message.type as MessageType;
    const exchangeKey = exchangeKeyOf(message.exchange);
    const consumers = queuesConsuming(type);
    const replies = 'replies' in message ? (message.replies as readonly MessageType[]) : [];
    const replyExchange =
      replies[0] && exchangeChannelId(exchangeKeyOf(Messages[replies[0]].exchange));
    const reply = replyExchange
      ? {
          channel: ref(`#/channels/${replyExchange}`),
          messages: replies.map((r) =>
            ref(
              `#/channels/${exchangeChannelId(exchangeKeyOf(Messages[r].exchange))}/messages/${r}`,
            ),
          ),
        }
      : undefined;
    operations[`send${type}`] = {
      action: 'send',
      title: `${message.senders.join(', ')} sends ${type}`,
      summary: `${capitalize(message.kind)} ${type}, published to ${message.exchange} with key ${message.routingKey}.`,
      channel: ref(`#/channels/${exchangeChannelId(exchangeKey)}`),
      messages: [ref(`#/channels/${exchangeChannelId(exchangeKey)}/messages/${type}`)],
      ...(reply ? { reply } : {}),
      bindings: {
        amqp: {
          deliveryMode: 2,
          mandatory: message.kind === 'command',
          timestamp: true,
          cc: [message.routingKey],
          bindingVersion: AMQP_BINDING_VERSION,
        },
      },
      'x-senders': [...message.senders],
    };

    messages[type] = {
      name: type,
      title: type,
      summary: `A ${message.kind}: sent by ${message.senders.join(', ')} to ${message.exchange} (key ${message.routingKey}); consumed from ${consumers.map(([, q]) => q.name).join(', ') || 'no queue'}.`,
      contentType: JSON_CONTENT_TYPE,
      tags: [{ name: message.kind }],
      correlationId: {
        description: 'The order id',
        location: '$message.header#/correlationId',
      },
      headers: envelopeSchemaOf(type),
      payload: jsonSchemaOf(message.schema, 'draft-7'),
      bindings: { amqp: { messageType: type, bindingVersion: AMQP_BINDING_VERSION } },
      examples: options.examples[type],
      'x-kind': message.kind,
      'x-exchange': message.exchange,
      'x-routing-key': message.routingKey,
      'x-senders': [...message.senders],
      'x-consumers': consumers.map(([, q]) => ({ service: q.consumer, queue: q.name })),
      ...(replies.length > 0 ? { 'x-replies': [...replies] } : {}),
    };
  }

  for (const [key, queue] of Object.entries(Queues) as [string, QueueDefinition][]) {
    const commandReplies = queue.messages.flatMap((type) => {
      const message = Messages[type];
      return 'replies' in message ? (message.replies as readonly MessageType[]) : [];
    });
    operations[`receive${capitalize(key)}`] = {
      action: 'receive',
      title: `${queue.consumer} consumes ${queue.name}`,
      summary: `${queue.consumer} handles ${queue.messages.join(', ')}: ack after its transaction commits, retry with growing delay, park when invalid.`,
      channel: ref(`#/channels/${queueChannelId(key)}`),
      messages: queue.messages.map((type) =>
        ref(`#/channels/${queueChannelId(key)}/messages/${type}`),
      ),
      ...(commandReplies.length > 0
        ? {
            reply: {
              channel: ref(`#/channels/${exchangeChannelId('orderReplies')}`),
              messages: commandReplies.map((r) =>
                ref(`#/channels/${exchangeChannelId('orderReplies')}/messages/${r}`),
              ),
            },
          }
        : {}),
      bindings: { amqp: { ack: true, bindingVersion: AMQP_BINDING_VERSION } },
      'x-consumer': queue.consumer,
    };
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Async messaging reference: messages',
      version: options.version,
      description:
        'Every exchange, queue and message of the system (DESIGN.md sections 4 and 4a), generated ' +
        'by `npm run contracts:generate` from the zod contracts in shared/contracts. Do not edit by hand. ' +
        'Payloads are JSON (money in integer cents, timestamps ISO-8601 UTC); consumers ignore fields ' +
        'they do not know, so a new optional field is additive (docs/versioning.md).',
    },
    defaultContentType: JSON_CONTENT_TYPE,
    servers: {
      local: {
        host: 'localhost:5672',
        protocol: 'amqp',
        protocolVersion: '0-9-1',
        description: `RabbitMQ; each service connects as its own user (${ServiceNames.join(', ')}).`,
      },
    },
    channels,
    operations,
    components: { messages },
  };
}
