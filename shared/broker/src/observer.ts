import type { Channel } from 'amqplib';
import { Exchanges, Messages } from '@app/contracts';
import type { Binding } from './topology';

/**
 * The dashboard's read-only view of the traffic: one queue, declared and bound by an
 * administrator (infra/rabbitmq/definitions.json, the test harness), which the dashboard's
 * broker user may only consume. That user may configure nothing and write nothing, so it can
 * neither publish, nor bind, nor declare: it can read this queue and no other.
 *
 * Bound to the event exchanges and to `order.replies`, never to a command exchange: a
 * binding there would make every command routable, and a command whose recipient is not
 * deployed must come back unroutable (DESIGN section 1). The dashboard infers a command from
 * the reply that names it as its cause.
 *
 * Bounded by the broker, not by the reader: at most `x-max-length` messages, the oldest
 * dropped first, none older than `x-message-ttl`. A flood, or no dashboard running at all,
 * costs at most that much broker memory.
 */
export const ObserverQueue = {
  name: 'dashboard.observer',
  user: 'dashboard',
  arguments: {
    'x-queue-type': 'classic',
    'x-max-length': 10_000,
    'x-overflow': 'drop-head',
    'x-message-ttl': 60_000,
  },
  permissions: { configure: '^$', write: '^$', read: '^dashboard\\.observer$' },
} as const;

/** The bindings of the observer queue: every event and reply the contract defines. */
export function observerBindings(): Binding[] {
  const bindings: Binding[] = [];
  for (const exchange of Object.values(Exchanges)) {
    const messages = Object.values(Messages).filter(
      (message) => message.exchange === exchange.name,
    );
    if (messages.some((message) => message.kind === 'command')) continue;
    if (exchange.type === 'topic') {
      bindings.push({ exchange: exchange.name, routingKey: '#' });
    } else {
      for (const key of new Set(messages.map((message) => message.routingKey)))
        bindings.push({ exchange: exchange.name, routingKey: key });
    }
  }
  return bindings;
}

/** Declares and binds the observer queue (as an administrator, after the exchanges exist). */
export async function declareObserverQueue(channel: Channel): Promise<void> {
  await channel.assertQueue(ObserverQueue.name, {
    durable: true,
    arguments: ObserverQueue.arguments,
  });
  for (const { exchange, routingKey } of observerBindings())
    await channel.bindQueue(ObserverQueue.name, exchange, routingKey);
}
