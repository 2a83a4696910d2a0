import type { ChannelModel, Channel } from 'amqplib';
import { Exchanges } from '@app/contracts';
import { onProbeChannel } from './probe';

/**
 * The replayable history of `order.events`: a RabbitMQ stream (AMQP 0-9-1, no stream
 * plugin) bound to the exchange for every routing key, so it holds a copy of every event
 * Order published, in the order the broker received them, whether or not any queue was
 * bound then. A subscriber deployed late reads it from its first offset to catch up
 * (`Subscription.backfillFrom`, docs/backfill.md); reading a stream removes nothing.
 *
 * - Declared by its owner, Order, at start (like its exchanges) where it is missing, and by
 *   the broker definitions (`make setup`, compose) so it exists before Order ever ran.
 * - Retention is the broker's: segments older than `x-max-age` or beyond
 *   `x-max-length-bytes` are deleted whole. Arguments cannot change on an existing stream;
 *   change retention on a running broker with a policy, which takes precedence, e.g.
 *   `rabbitmqctl set_policy -p messaging --apply-to queues order-history
 *   '^order\.events\.history$' '{"max-age":"30D"}'`.
 * - Subscribers of `order.events` may read it (consume) and nothing else: they can neither
 *   publish into it, bind it, nor delete or purge it (shared/broker/src/permissions.ts).
 */
export const OrderHistory = {
  name: 'order.events.history',
  exchange: Exchanges.orderEvents.name,
  routingKey: '#',
  arguments: {
    'x-queue-type': 'stream',
    'x-max-age': '7D',
    'x-max-length-bytes': 1_000_000_000,
    'x-stream-max-segment-size-bytes': 50_000_000,
  },
} as const;

/** The history streams a service owns and declares at start (Order: `order.events.history`). */
export const historyStreamsOf = (service: string) =>
  Exchanges.orderEvents.owner === service ? [OrderHistory] : [];

/**
 * Declares and binds a history stream. With `connection`, a stream that exists already is
 * left as it is (only the binding is asserted): the broker definitions may have made it with
 * other retention arguments, and re-declaring it with different ones would be refused.
 */
export async function declareHistoryStream(
  channel: Channel,
  stream: typeof OrderHistory = OrderHistory,
  connection?: ChannelModel,
): Promise<void> {
  if (!connection || !(await queueExists(connection, stream.name))) {
    await channel.assertQueue(stream.name, { durable: true, arguments: stream.arguments });
  }
  await channel.bindQueue(stream.name, stream.exchange, stream.routingKey);
}

/**
 * Whether a queue exists, asked on a throwaway channel: a passive declare of a missing queue
 * closes its channel (404); it needs no permission on the queue.
 */
export async function queueExists(connection: ChannelModel, name: string): Promise<boolean> {
  try {
    await onProbeChannel(connection, (probe) => probe.checkQueue(name));
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return false;
    throw err;
  }
}
