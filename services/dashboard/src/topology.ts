import { Exchanges, Messages, Queues, ServiceNames, type ServiceName } from '@app/contracts';
import {
  DEFAULT_RETRY_DELAYS_MS,
  ObserverQueue,
  deadLetterQueueOf,
  observerBindings,
  retryQueueOf,
} from '@app/broker';

/** What the page draws: services, exchanges and queues with their companions, from the contract. */
export interface Topology {
  services: { name: ServiceName; publishesTo: string[] }[];
  exchanges: { name: string; type: string; owner: ServiceName; observed: boolean }[];
  queues: {
    name: string;
    consumer: ServiceName;
    messages: string[];
    from: { exchange: string; routingKey: string }[];
    retry: string[];
    dead: string;
  }[];
  observer: string;
}

export function topologyOf(retryDelaysMs: readonly number[] = DEFAULT_RETRY_DELAYS_MS): Topology {
  const observed = new Set(observerBindings().map((binding) => binding.exchange));
  return {
    services: ServiceNames.map((name) => ({
      name,
      publishesTo: [
        ...new Set(
          Object.values(Messages)
            .filter((message) => (message.senders as readonly string[]).includes(name))
            .map((message) => message.exchange),
        ),
      ],
    })),
    exchanges: Object.values(Exchanges).map((exchange) => ({
      ...exchange,
      observed: observed.has(exchange.name),
    })),
    queues: Object.values(Queues).map((queue) => ({
      name: queue.name,
      consumer: queue.consumer,
      messages: [...queue.messages],
      from: queue.messages.map((type) => ({
        exchange: Messages[type].exchange,
        routingKey: Messages[type].routingKey,
      })),
      retry: retryDelaysMs.map((delay) => retryQueueOf(queue.name, delay)),
      dead: deadLetterQueueOf(queue.name),
    })),
    observer: ObserverQueue.name,
  };
}

/** The queues a message of `type` is routed to, and who consumes each. */
export function destinationsOf(type: string): { queue: string; consumer: ServiceName }[] {
  return Object.values(Queues)
    .filter((queue) => (queue.messages as readonly string[]).includes(type))
    .map((queue) => ({ queue: queue.name, consumer: queue.consumer }));
}
