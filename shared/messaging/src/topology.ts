import type { ConfirmChannel, Options } from 'amqplib';
import { Exchanges, Messages } from '@app/contracts';

export interface Binding {
  exchange: string;
  routingKey: string;
}

export interface QueueSpec {
  /** `<consumer>.<what>`, for example `invoicing.new-order`. */
  name: string;
  bindings: Binding[];
}

/** Delays of the retry companions of every consumer queue (DESIGN.md section 5). */
export const DEFAULT_RETRY_DELAYS_MS = [1_000, 5_000, 25_000] as const;

/** Redeliveries after which a message that keeps crashing its consumer is dead-lettered by the broker. */
export const DELIVERY_LIMIT = 10;

export const deadLetterQueueOf = (queue: string): string => `${queue}.dead`;

/**
 * Retry queues are named after their delay: RabbitMQ refuses to re-declare a queue with
 * other arguments, so a changed delay gets a queue of its own instead of a channel error.
 */
export const retryQueueOf = (queue: string, delayMs: number): string =>
  `${queue}.retry.${delayMs}ms`;

// Quorum queues dead-letter at-least-once only with reject-publish overflow
// (RabbitMQ 3.10+); the default strategy is at-most-once.
const atLeastOnceDeadLettering = {
  'x-dead-letter-strategy': 'at-least-once',
  'x-overflow': 'reject-publish',
};

const quorum = (args: Record<string, unknown> = {}): Options.AssertQueue => ({
  durable: true,
  arguments: { 'x-queue-type': 'quorum', ...args },
});

/**
 * Declares the exchanges a service owns, and the command exchanges it sends to: a command
 * to a recipient that was never deployed must come back as unroutable, which needs the
 * exchange to exist (publishing to a missing exchange would close the channel instead).
 */
export async function declarePublisherExchanges(
  channel: ConfirmChannel,
  service: string,
): Promise<void> {
  const commandExchanges = Object.values(Messages)
    .filter(
      (message) =>
        message.kind === 'command' && (message.senders as readonly string[]).includes(service),
    )
    .map((message) => message.exchange);
  for (const exchange of Object.values(Exchanges)) {
    if (exchange.owner === service || (commandExchanges as string[]).includes(exchange.name)) {
      await channel.assertExchange(exchange.name, exchange.type, { durable: true });
    }
  }
}

/**
 * Declares a consumer queue with its retry companions and dead-letter queue, and binds it.
 * Bound exchanges must exist: a consumer of another service's exchange declares it too
 * (same arguments, so the declaration is idempotent) to be able to start first.
 */
export async function declareConsumerQueue(
  channel: ConfirmChannel,
  spec: QueueSpec,
  retryDelaysMs: readonly number[],
): Promise<void> {
  const dead = deadLetterQueueOf(spec.name);
  await channel.assertQueue(dead, quorum());
  await channel.assertQueue(
    spec.name,
    quorum({
      'x-delivery-limit': DELIVERY_LIMIT,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': dead,
      ...atLeastOnceDeadLettering,
    }),
  );
  for (const delayMs of retryDelaysMs) {
    await channel.assertQueue(
      retryQueueOf(spec.name, delayMs),
      quorum({
        'x-message-ttl': delayMs,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': spec.name,
        ...atLeastOnceDeadLettering,
      }),
    );
  }
  for (const binding of spec.bindings) {
    const exchange = Object.values(Exchanges).find((e) => e.name === binding.exchange);
    if (exchange) await channel.assertExchange(exchange.name, exchange.type, { durable: true });
    await channel.bindQueue(spec.name, binding.exchange, binding.routingKey);
  }
}
