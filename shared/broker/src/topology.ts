import type { ChannelModel, ConfirmChannel, Options } from 'amqplib';
import { Exchanges, Messages } from '@app/contracts';
import { backoffDelay, delay } from '@app/runtime';
import { declareHistoryStream, historyStreamsOf } from './history';

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
 * The service's own exchanges for moving messages between its queues: a consumer sends a
 * failing message to a retry queue through `<service>.retry` and parks it through
 * `<service>.dead`, each routed by the target queue's name; a replay goes back through
 * `<service>.retry` to the original queue. Only the service may write them, so nobody else
 * can plant a message in its retry or dead-letter queues, and no service needs the default
 * exchange (which reaches every queue).
 */
export const moveExchangesOf = (service: string) =>
  ({ retry: `${service}.retry`, dead: `${service}.dead` }) as const;

/** The service that owns a queue: the part of `<consumer>.<what>` before the first dot. */
export const ownerOfQueue = (queue: string): string => queue.split('.')[0] ?? queue;

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

const quorumQueue = (args: Record<string, unknown> = {}): Options.AssertQueue => ({
  durable: true,
  arguments: { 'x-queue-type': 'quorum', ...args },
});

/**
 * Declares the exchanges a service owns. The command exchanges it sends to belong to their
 * recipients; a command to a recipient that was never deployed must still come back as
 * unroutable, which needs the exchange to exist (publishing to a missing exchange closes
 * the channel instead). Where the broker definitions created it, nothing is declared
 * (the sender has no configure permission there); otherwise the sender declares it.
 * The owner of `order.events` also declares its history stream where it is missing.
 */
export async function declarePublisherExchanges(
  channel: ConfirmChannel,
  service: string,
  connection?: ChannelModel,
): Promise<void> {
  const commandExchanges: string[] = Object.values(Messages)
    .filter(
      (message) =>
        message.kind === 'command' && (message.senders as readonly string[]).includes(service),
    )
    .map((message) => message.exchange);
  for (const exchange of Object.values(Exchanges)) {
    if (exchange.owner === service) {
      await channel.assertExchange(exchange.name, exchange.type, { durable: true });
    } else if (commandExchanges.includes(exchange.name)) {
      if (!connection || !(await exchangeExists(connection, exchange.name))) {
        await channel.assertExchange(exchange.name, exchange.type, { durable: true });
      }
    }
  }
  // The history of its events (history.ts), once its exchanges exist.
  for (const stream of historyStreamsOf(service))
    await declareHistoryStream(channel, stream, connection);
}

/**
 * Whether an exchange exists, asked on a throwaway channel: a passive declare of a missing
 * exchange closes its channel (404), and needs no permission on the exchange.
 */
export async function exchangeExists(connection: ChannelModel, name: string): Promise<boolean> {
  const probe = await connection.createChannel();
  probe.on('error', () => undefined);
  try {
    await probe.checkExchange(name);
    await probe.close().catch(() => undefined);
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return false;
    throw err;
  }
}

/**
 * Makes sure another service's exchange exists before binding to it. Where the broker
 * definitions (or its owner) created it, nothing is declared. Otherwise the exchange is
 * declared on a throwaway channel if this user may (a shared, permissive user); a
 * least-privilege user may not, and waits until the owner declares it. Gives up when
 * `isStopping` says so.
 */
export async function waitForExchange(
  connection: ChannelModel,
  name: string,
  onWait: (attempt: number) => void,
  isStopping: () => boolean = () => false,
): Promise<void> {
  const exchange = Object.values(Exchanges).find((e) => e.name === name);
  for (let attempt = 1; ; attempt += 1) {
    if (await exchangeExists(connection, name)) return;
    if (exchange && (await declareIfAllowed(connection, exchange.name, exchange.type))) return;
    if (isStopping()) throw new Error(`stopped while waiting for exchange ${name}`);
    onWait(attempt);
    await delay(backoffDelay(attempt, 250, 5_000));
  }
}

async function declareIfAllowed(
  connection: ChannelModel,
  name: string,
  type: string,
): Promise<boolean> {
  const probe = await connection.createChannel();
  probe.on('error', () => undefined);
  try {
    await probe.assertExchange(name, type, { durable: true });
    await probe.close().catch(() => undefined);
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 403) return false;
    throw err;
  }
}

/**
 * Declares a consumer queue with its retry companions and dead-letter queue, and binds it.
 * Exchanges the service owns are declared; others must exist (their owner or the broker
 * definitions declare them): with a `connection`, it waits for them.
 */
export async function declareConsumerQueue(
  channel: ConfirmChannel,
  spec: QueueSpec,
  retryDelaysMs: readonly number[],
  options: {
    service?: string;
    connection?: ChannelModel;
    onWait?: (exchange: string, attempt: number) => void;
    /** `x-quorum-initial-group-size` (RABBITMQ_QUORUM_REPLICAS); unset: the broker's default. */
    quorumReplicas?: number | undefined;
  } = {},
): Promise<void> {
  const replicas =
    options.quorumReplicas === undefined
      ? {}
      : { 'x-quorum-initial-group-size': options.quorumReplicas };
  const quorum = (args: Record<string, unknown> = {}) => quorumQueue({ ...replicas, ...args });
  const dead = deadLetterQueueOf(spec.name);
  const moves = moveExchangesOf(ownerOfQueue(spec.name));
  await channel.assertExchange(moves.retry, 'direct', { durable: true });
  await channel.assertExchange(moves.dead, 'direct', { durable: true });
  await channel.assertQueue(dead, quorum());
  await channel.bindQueue(dead, moves.dead, dead);
  await channel.assertQueue(
    spec.name,
    quorum({
      'x-delivery-limit': DELIVERY_LIMIT,
      'x-dead-letter-exchange': moves.dead,
      'x-dead-letter-routing-key': dead,
      ...atLeastOnceDeadLettering,
    }),
  );
  // The broker's own dead-lettering (delivery limit, retry TTL) goes through the service's
  // exchanges too: RabbitMQ requires write permission on a queue's dead-letter exchange.
  await channel.bindQueue(spec.name, moves.retry, spec.name);
  for (const delayMs of retryDelaysMs) {
    const retry = retryQueueOf(spec.name, delayMs);
    await channel.assertQueue(
      retry,
      quorum({
        'x-message-ttl': delayMs,
        'x-dead-letter-exchange': moves.retry,
        'x-dead-letter-routing-key': spec.name,
        ...atLeastOnceDeadLettering,
      }),
    );
    await channel.bindQueue(retry, moves.retry, retry);
  }
  for (const binding of spec.bindings) {
    const exchange = Object.values(Exchanges).find((e) => e.name === binding.exchange);
    if (exchange && exchange.owner === options.service) {
      await channel.assertExchange(exchange.name, exchange.type, { durable: true });
    } else if (options.connection) {
      await waitForExchange(options.connection, binding.exchange, (attempt) =>
        options.onWait?.(binding.exchange, attempt),
      );
    } else if (exchange) {
      await channel.assertExchange(exchange.name, exchange.type, { durable: true });
    }
    await channel.bindQueue(spec.name, binding.exchange, binding.routingKey);
  }
}
