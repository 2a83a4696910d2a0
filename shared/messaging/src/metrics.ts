import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The messaging metrics of one service, registered on its registry. */
export interface MessagingMetrics {
  published: Counter<'type' | 'outcome'>;
  consumed: Counter<'queue' | 'type' | 'outcome'>;
  handlerSeconds: Histogram<'queue' | 'type'>;
  outboxBacklog: Gauge;
}

/** `backlog` is asked at each scrape; it returns undefined for a service without an outbox. */

export function createMessagingMetrics(
  registry: Registry,
  backlog: () => Promise<number | undefined> = async () => undefined,
): MessagingMetrics {
  return {
    published: new Counter({
      name: 'messages_published_total',
      help: 'Messages published, by outcome: confirmed, returned (unroutable) or failed',
      labelNames: ['type', 'outcome'],
      registers: [registry],
    }),
    consumed: new Counter({
      name: 'messages_consumed_total',
      help: 'Deliveries handled, by outcome: processed, duplicate, retried, dead-lettered',
      labelNames: ['queue', 'type', 'outcome'],
      registers: [registry],
    }),
    handlerSeconds: new Histogram({
      name: 'message_handler_duration_seconds',
      help: 'Time from delivery to acknowledgement, for handled messages',
      labelNames: ['queue', 'type'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    outboxBacklog: new Gauge({
      name: 'outbox_backlog',
      help: 'Outbox messages written but not yet confirmed by the broker',
      registers: [registry],
      async collect() {
        const value = await backlog().catch(() => Number.NaN);
        if (value !== undefined) this.set(value);
      },
    }),
  };
}
