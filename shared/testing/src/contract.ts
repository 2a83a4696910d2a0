import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MessageProperties } from 'amqplib';
import { parse } from 'yaml';
import type { RawDelivery } from '@app/broker';
import type { MessageType } from '@app/contracts';
import { REPO_ROOT } from './databases';

/** An example message of docs/asyncapi.yaml: its envelope and its payload. */
export interface ContractExample {
  name: string;
  headers: Record<string, unknown>;
  payload: unknown;
}

let document: { components: { messages: Record<string, { examples?: ContractExample[] }> } };

/**
 * The examples docs/asyncapi.yaml publishes for a message type (generated from the message
 * builders): what a producer in any language is told to send, loaded by the consumers'
 * contract tests so the document and the code cannot drift.
 */
export function contractExamples(type: MessageType): ContractExample[] {
  document ??= parse(readFileSync(join(REPO_ROOT, 'docs/asyncapi.yaml'), 'utf8'));
  const examples = document.components.messages[type]?.examples ?? [];
  if (examples.length === 0) throw new Error(`docs/asyncapi.yaml has no example of ${type}`);
  return examples;
}

/** An example as the consumer receives it from the broker: AMQP properties and a JSON body. */
export function deliveryOfExample(example: ContractExample): RawDelivery {
  const {
    messageId,
    type,
    correlationId,
    timestamp,
    appId,
    userId,
    contentType,
    replyTo,
    ...headers
  } = example.headers;
  const properties = {
    messageId,
    type,
    correlationId,
    timestamp,
    appId,
    userId,
    contentType,
    replyTo,
    headers,
  } as unknown as MessageProperties;
  return { properties, content: Buffer.from(JSON.stringify(example.payload)) };
}
