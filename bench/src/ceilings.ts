import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import amqplib, { type ConfirmChannel, type Options } from 'amqplib';
import { Pool } from 'pg';
import { Headers, JSON_CONTENT_TYPE } from '@app/contracts';
import { aNewOrder } from '@app/testing';
import { perSecond } from './rates';
import { summarize, type Summary } from './stats';

/** The raw rates the system is measured against, on the same broker and database. */
export interface Ceilings {
  messageBytes: number;
  /** amqplib, one connection, persistent messages to one quorum queue, publisher confirms. */
  publishConfirmedPerSecond: number;
  /** amqplib, one connection, the same queue drained with a manual ack per message. */
  consumeAckedPerSecond: number;
  /** pg (the driver under @prisma/adapter-pg), `clients` connections, one INSERT each (autocommit). */
  insertPerSecond: number;
  /** The same with BEGIN, INSERT, COMMIT: three round trips, as an interactive transaction has. */
  insertInTransactionPerSecond: number;
  /** BEGIN, INSERT, NOTIFY, COMMIT: what waking a relay in another process would cost. */
  insertWithNotifyPerSecond: number;
  /** From sending COMMIT to a listening connection receiving the notification, in ms. */
  notifyLatencyMs: Summary | undefined;
  postgresClients: number;
}

const QUEUE = 'bench.ceiling';
/** Unconfirmed publishes allowed at once: enough to keep the broker busy, bounded memory. */
const PUBLISH_WINDOW = 1_000;
const CONSUME_PREFETCH = 1_000;

/** A NewOrder as the Order service sends it: the same body and properties, so the same size. */
function aNewOrderMessage(userId: string): {
  body: Buffer;
  options: (id: string) => Options.Publish;
} {
  const payload = aNewOrder({
    items: [
      { sku: 'SKU-BOOK-1', quantity: 2, unitPriceCents: 1250 },
      { sku: 'SKU-PEN-7', quantity: 1, unitPriceCents: 399 },
    ],
  });
  const body = Buffer.from(JSON.stringify(payload));
  return {
    body,
    options: (id) => ({
      persistent: true,
      contentType: JSON_CONTENT_TYPE,
      contentEncoding: 'utf-8',
      messageId: id,
      type: 'NewOrder',
      correlationId: payload.orderId,
      appId: 'order',
      userId,
      timestamp: Math.floor(Date.now() / 1000),
      headers: {
        [Headers.traceparent]: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
        'x-timestamp-ms': Date.now(),
      },
    }),
  };
}

/**
 * Publishes to a quorum queue for `seconds` with confirms (a window of unconfirmed
 * messages in flight), then consumes what was published with a manual ack per message.
 */
export async function measureBroker(
  url: string,
  seconds: number,
): Promise<Pick<Ceilings, 'messageBytes' | 'publishConfirmedPerSecond' | 'consumeAckedPerSecond'>> {
  // As the services connect: TCP_NODELAY (see shared/messaging/src/connection.ts).
  const connection = await amqplib.connect(url, { noDelay: true });
  try {
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => undefined);
    await channel.assertQueue(QUEUE, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await channel.purgeQueue(QUEUE);
    const message = aNewOrderMessage(decodeURIComponent(new URL(url).username || 'guest'));
    const confirmed = await publishFor(channel, message, seconds * 1000);
    const consumed = await consumeFor(channel, confirmed.count, seconds * 1000);
    await channel.deleteQueue(QUEUE);
    await channel.close();
    return {
      messageBytes: message.body.length,
      publishConfirmedPerSecond: perSecond(confirmed.count, confirmed.ms),
      consumeAckedPerSecond: perSecond(consumed.count, consumed.ms),
    };
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function publishFor(
  channel: ConfirmChannel,
  message: ReturnType<typeof aNewOrderMessage>,
  ms: number,
): Promise<{ count: number; ms: number }> {
  const started = performance.now();
  let inFlight = 0;
  let confirmed = 0;
  let failed: Error | undefined;
  let wake: (() => void) | undefined;
  const settled = (err: unknown): void => {
    inFlight -= 1;
    if (err) failed ??= err instanceof Error ? err : new Error(String(err));
    else confirmed += 1;
    wake?.();
  };
  while (performance.now() - started < ms && !failed) {
    while (inFlight >= PUBLISH_WINDOW) await new Promise<void>((resolve) => (wake = resolve));
    inFlight += 1;
    const accepted = channel.sendToQueue(
      QUEUE,
      message.body,
      message.options(randomUUID()),
      settled,
    );
    if (!accepted) await new Promise<void>((resolve) => channel.once('drain', resolve));
  }
  while (inFlight > 0) await new Promise<void>((resolve) => (wake = resolve));
  if (failed) throw failed;
  return { count: confirmed, ms: performance.now() - started };
}

async function consumeFor(
  channel: ConfirmChannel,
  expected: number,
  ms: number,
): Promise<{ count: number; ms: number }> {
  await channel.prefetch(CONSUME_PREFETCH);
  let count = 0;
  const started = performance.now();
  let finished = 0;
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    void channel
      .consume(QUEUE, (delivery) => {
        if (!delivery) return;
        channel.ack(delivery);
        count += 1;
        if (count === expected) {
          finished = performance.now();
          clearTimeout(timer);
          resolve();
        }
      })
      .then(({ consumerTag }) => done.finally(() => channel.cancel(consumerTag)));
  });
  await done;
  return { count, ms: (finished || performance.now()) - started };
}

/**
 * Single-row insert transactions through `pg`, `clients` connections each inserting as
 * fast as its round trips allow, for `seconds`: first autocommitted INSERTs, then the
 * BEGIN/INSERT/COMMIT shape of an interactive transaction.
 */
export async function measurePostgres(
  databaseUrl: string,
  seconds: number,
  clients = 8,
): Promise<
  Pick<
    Ceilings,
    | 'insertPerSecond'
    | 'insertInTransactionPerSecond'
    | 'insertWithNotifyPerSecond'
    | 'notifyLatencyMs'
    | 'postgresClients'
  >
> {
  // One more connection than the writers: the LISTEN one.
  const pool = new Pool({ connectionString: databaseUrl, max: clients + 1 });
  try {
    await pool.query(
      `CREATE TABLE IF NOT EXISTS bench_ceiling (
         id bigserial PRIMARY KEY, message_id uuid NOT NULL, payload jsonb NOT NULL,
         created_at timestamptz(3) NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
    );
    const payload = JSON.stringify(aNewOrder());
    const insert = 'INSERT INTO bench_ceiling (message_id, payload) VALUES ($1::uuid, $2::jsonb)';
    const autocommit = await loopFor(pool, clients, seconds * 1000, async (client) => {
      await client.query(insert, [randomUUID(), payload]);
    });
    const inTransaction = await loopFor(pool, clients, seconds * 1000, async (client) => {
      await client.query('BEGIN');
      await client.query(insert, [randomUUID(), payload]);
      await client.query('COMMIT');
    });
    const notify = await measureNotify(pool, clients, seconds * 1000, insert, payload);
    await pool.query('DROP TABLE bench_ceiling');
    return {
      insertPerSecond: autocommit,
      insertInTransactionPerSecond: inTransaction,
      insertWithNotifyPerSecond: notify.perSecond,
      notifyLatencyMs: notify.latency,
      postgresClients: clients,
    };
  } finally {
    await pool.end();
  }
}

async function loopFor(
  pool: Pool,
  clients: number,
  ms: number,
  work: (client: import('pg').PoolClient) => Promise<void>,
): Promise<number> {
  const started = performance.now();
  let count = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const client = await pool.connect();
      try {
        while (performance.now() - started < ms) {
          await work(client);
          count += 1;
        }
      } finally {
        client.release();
      }
    }),
  );
  return perSecond(count, performance.now() - started);
}

/**
 * Inserts as `loopFor` does, each transaction also sending NOTIFY, while one more
 * connection LISTENs: the commit rate with NOTIFY's commit-time lock, and how soon a
 * listener hears of a commit.
 */
async function measureNotify(
  pool: Pool,
  clients: number,
  ms: number,
  insert: string,
  payload: string,
): Promise<{ perSecond: number; latency: Summary | undefined }> {
  const listener = await pool.connect();
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  listener.on('notification', (notification) => {
    const sent = notification.payload ? sentAt.get(notification.payload) : undefined;
    if (sent !== undefined) latencies.push(performance.now() - sent);
  });
  await listener.query('LISTEN bench_ceiling');
  try {
    const rate = await loopFor(pool, clients, ms, async (client) => {
      const id = randomUUID();
      await client.query('BEGIN');
      await client.query(insert, [id, payload]);
      await client.query(`SELECT pg_notify('bench_ceiling', $1)`, [id]);
      sentAt.set(id, performance.now());
      await client.query('COMMIT');
    });
    await listener.query('UNLISTEN bench_ceiling');
    return { perSecond: rate, latency: summarize(latencies) };
  } finally {
    listener.release();
  }
}
