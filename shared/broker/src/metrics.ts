import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BrokerConnection } from './connection';

/** The messaging metrics of one service, registered on its registry. */
export interface MessagingMetrics {
  published: Counter<'type' | 'outcome'>;
  consumed: Counter<'queue' | 'type' | 'outcome'>;
  /** Messages read from a history stream while catching up, by outcome (docs/backfill.md). */
  backfilled: Counter<'queue' | 'type' | 'outcome'>;
  redelivered: Counter<'queue'>;
  handlerSeconds: Histogram<'queue' | 'type'>;
  /** Deliveries handled together in one transaction, and batches that fell back to one by one. */
  batchSize: Histogram<'queue' | 'type'>;
  batchFallbacks: Counter<'queue' | 'type'>;
  outboxBacklog: Gauge;
  queueDepth: Gauge<'queue'>;
  deadLetters: Gauge<'queue'>;
}

/** Messages ready in a consumer queue and in its `.dead` companion. */
export interface QueueDepth {
  queue: string;
  ready: number;
  dead: number;
}

/** A scrape waits this long for the broker's queue counts, then keeps the last ones. */
const QUEUE_DEPTHS_TIMEOUT_MS = 2_000;

/**
 * `backlog` is asked at each scrape; it returns undefined for a service without an outbox.
 * `queueDepths` too; it returns undefined while the broker is unreachable, and the
 * gauges then keep their last values.
 */
export function createMessagingMetrics(
  registry: Registry,
  backlog: () => Promise<number | undefined> = async () => undefined,
  queueDepths: () => Promise<QueueDepth[] | undefined> = async () => undefined,
): MessagingMetrics {
  // Both gauges are collected in one scrape: they share one round of queue checks.
  let sampling: Promise<QueueDepth[] | undefined> | undefined;
  const sampleQueueDepths = (): Promise<QueueDepth[] | undefined> => {
    sampling ??= withTimeout(queueDepths(), QUEUE_DEPTHS_TIMEOUT_MS).finally(() => {
      sampling = undefined;
    });
    return sampling;
  };
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
    backfilled: new Counter({
      name: 'messages_backfilled_total',
      help: 'Messages read from a history stream while catching up, by outcome: processed, duplicate (absorbed by the inbox), skipped (a type the queue does not take), retried, dead-lettered',
      labelNames: ['queue', 'type', 'outcome'],
      registers: [registry],
    }),
    redelivered: new Counter({
      name: 'messages_redelivered_total',
      help: 'Deliveries the broker marked redelivered (a consumer died or its channel closed before the ack)',
      labelNames: ['queue'],
      registers: [registry],
    }),
    handlerSeconds: new Histogram({
      name: 'message_handler_duration_seconds',
      help: 'Time from delivery to acknowledgement, for handled messages',
      labelNames: ['queue', 'type'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'message_batch_size',
      help: 'Deliveries of one type handled together in one transaction (batches of two or more)',
      labelNames: ['queue', 'type'],
      buckets: [2, 4, 8, 16, 32, 64],
      registers: [registry],
    }),
    batchFallbacks: new Counter({
      name: 'message_batch_fallbacks_total',
      help: 'Batches whose transaction failed, so that each of their messages was handled alone',
      labelNames: ['queue', 'type'],
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
    queueDepth: new Gauge({
      name: 'queue_depth',
      help: 'Messages ready in each consumer queue, asked of the broker at each scrape',
      labelNames: ['queue'],
      registers: [registry],
      async collect() {
        for (const { queue, ready } of (await sampleQueueDepths()) ?? []) {
          this.set({ queue }, ready);
        }
      },
    }),
    deadLetters: new Gauge({
      name: 'dead_letters',
      help: "Messages parked in each consumer queue's .dead companion, asked of the broker at each scrape",
      labelNames: ['queue'],
      registers: [registry],
      async collect() {
        for (const { queue, dead } of (await sampleQueueDepths()) ?? []) {
          this.set({ queue }, dead);
        }
      },
    }),
  };
}

/**
 * The connection's history on the registry: `broker_reconnects_total` (connections made
 * after the first) and `broker_connected_node{node}` (1 for the node connected to now,
 * 0 for the other URLs; all 0 while disconnected), so a failover shows in `/metrics`.
 */
export function registerConnectionMetrics(registry: Registry, connection: BrokerConnection): void {
  const reconnects = new Counter({
    name: 'broker_reconnects_total',
    help: 'Broker connections made after the first one (each lost connection that came back)',
    registers: [registry],
  });
  connection.onConnect(({ reconnect }) => {
    if (reconnect) reconnects.inc();
  });
  const nodes = connection.urls.map((url) => {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || (parsed.protocol === 'amqps:' ? 5671 : 5672)}`;
  });
  new Gauge({
    name: 'broker_connected_node',
    help: 'The broker node this process is connected to now (1), of the nodes it may use',
    labelNames: ['node'],
    registers: [registry],
    collect() {
      for (const node of new Set([...nodes, ...(connection.node ? [connection.node] : [])])) {
        this.set({ node }, node === connection.node ? 1 : 0);
      }
    },
  });
}

/** The promise's value, or undefined if it fails or takes longer than `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
