import amqplib from 'amqplib';
import { Pool } from 'pg';
import { Registry } from 'prom-client';
import { createLogger } from '@app/runtime';
import {
  TestBroker,
  aNewOrder,
  createTestDatabase,
  createTestVhost,
  waitFor,
  type TestDatabase,
  type TestVhost,
} from '@app/testing';
import {
  OrderHistory,
  backfilledMarkerOf,
  declareHistoryStream,
  on,
  queueExists,
  type Subscription,
} from '@app/broker';
import { claimInbox, type SqlClient } from '@app/store';
import { Messaging } from '../../src';

const QUEUE = 'statistics.new-order';

/** The value of one labelled series of a counter in `registry` (0 when absent). */
async function counter(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  return (metric?.values ?? [])
    .filter((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))
    .reduce((sum, v) => sum + v.value, 0);
}

/**
 * A NewOrder handler with a real inbox: it claims the message in the inbox and counts its
 * effect in the same transaction, so `effects` shows what a subscriber would have done,
 * once per order or more if the seam let a message through twice.
 */
class CountingSubscriber {
  readonly effects = new Map<string, number>();

  constructor(private readonly pool: Pool) {}

  subscription(backfillFrom?: string): Subscription {
    return {
      queue: QUEUE,
      ...(backfillFrom ? { backfillFrom } : {}),
      handlers: [
        on('NewOrder', async (message) => {
          const client = await this.pool.connect();
          try {
            await client.query('BEGIN');
            const tx: SqlClient = {
              $executeRawUnsafe: async (query: string, ...values: unknown[]) =>
                (await client.query(query, values)).rowCount ?? 0,
              $queryRawUnsafe: async <T>(query: string, ...values: unknown[]) =>
                (await client.query(query, values)).rows as T,
            };
            const fresh = await claimInbox(tx, message.inbox);
            await client.query('COMMIT');
            if (!fresh) return 'duplicate';
            const { orderId } = message.payload;
            this.effects.set(orderId, (this.effects.get(orderId) ?? 0) + 1);
            return 'processed';
          } catch (err) {
            await client.query('ROLLBACK');
            throw err;
          } finally {
            client.release();
          }
        }),
      ],
    };
  }

  countsOf(orderIds: string[]): { missing: string[]; doubled: string[] } {
    return {
      missing: orderIds.filter((id) => !this.effects.has(id)),
      doubled: orderIds.filter((id) => (this.effects.get(id) ?? 0) > 1),
    };
  }
}

describe('backfill from the order.events history stream, against a real broker and database', () => {
  let vhost: TestVhost;
  let db: TestDatabase;
  let pool: Pool;
  let broker: TestBroker;
  const started: Messaging[] = [];

  function statistics(subscription: Subscription, registry: Registry): Messaging {
    const messaging = new Messaging({
      service: 'statistics',
      url: vhost.url,
      logger: createLogger('test', 'silent'),
      registry,
      db: { $executeRawUnsafe: async () => 0, $queryRawUnsafe: async <T>() => [] as T },
      outbox: false,
      retryDelaysMs: [50, 100],
      prefetch: 8,
      backfillIdleMs: 500,
    });
    started.push(messaging);
    messaging.start([subscription]);
    return messaging;
  }

  beforeAll(async () => {
    vhost = await createTestVhost('backfill');
    db = await createTestDatabase('statistics', 'backfill');
    pool = new Pool({ connectionString: db.url, max: 10 });
    broker = await TestBroker.connect(vhost.url);
    await broker.declareExchanges();
    const connection = await amqplib.connect(vhost.url);
    await declareHistoryStream(await connection.createChannel());
    await connection.close();
  });

  afterAll(async () => {
    for (const messaging of started) await messaging.stop().catch(() => undefined);
    await pool?.end();
    await broker?.close();
    await db?.drop();
    await vhost?.delete();
  });

  test('when a subscriber starts late with backfill while orders keep coming, then every order, early or late, has exactly one effect, other event types are skipped, and a restart reads no history again', async () => {
    const early = Array.from({ length: 300 }, () => aNewOrder());
    for (const order of early) {
      await broker.publishMessage('NewOrder', order);
      // The stream holds every event of order.events; this queue takes NewOrder only.
      if (early.indexOf(order) % 50 === 0) {
        await broker.publishMessage('OrderCancelled', {
          orderId: order.orderId,
          reason: 'payment_declined',
          cancelledAt: new Date().toISOString(),
        });
      }
    }
    const subscriber = new CountingSubscriber(pool);
    const registry = new Registry();
    const backfilled = (outcome: string) =>
      counter(registry, 'messages_backfilled_total', { queue: QUEUE, outcome });
    const consumed = (outcome: string) =>
      counter(registry, 'messages_consumed_total', { queue: QUEUE, outcome });

    const messaging = statistics(subscriber.subscription(OrderHistory.name), registry);
    const readiness = await waitFor(
      'readiness to say it is backfilling',
      () => messaging.queueProblems()[`backfilling ${QUEUE}`],
    );
    // Orders placed while the backfill runs: each reaches both the stream and the live queue.
    const during: ReturnType<typeof aNewOrder>[] = [];
    while (
      messaging.queueProblems()[`backfilling ${QUEUE}`] !== undefined &&
      during.length < 5_000
    ) {
      const order = aNewOrder();
      await broker.publishMessage('NewOrder', order);
      during.push(order);
    }
    const after = Array.from({ length: 20 }, () => aNewOrder());
    for (const order of after) await broker.publishMessage('NewOrder', order);
    const all = [...early, ...during, ...after].map((order) => order.orderId);

    await waitFor(
      'every order to have its effect',
      () => subscriber.countsOf(all).missing.length === 0,
      { timeoutMs: 60_000 },
    );
    await waitFor('the live queue to be drained', async () => (await broker.depth(QUEUE)) === 0);

    expect(readiness).toMatch(/^reading order\.events\.history: \d+ messages so far/);
    expect(during.length).toBeGreaterThan(0);
    // It ended on the seam while orders kept coming, not because publishing stopped.
    expect(during.length).toBeLessThan(5_000);
    expect(subscriber.countsOf(all)).toEqual({ missing: [], doubled: [] });
    expect(subscriber.effects.size).toBe(all.length);
    expect(await backfilled('processed')).toBeGreaterThanOrEqual(early.length);
    expect(await backfilled('skipped')).toBe(early.length / 50);
    // Every effect came once: from the stream or from the queue, never from both.
    expect((await backfilled('processed')) + (await consumed('processed'))).toBe(all.length);
    expect(await broker.depth(`${QUEUE}.dead`)).toBe(0);
    await expect(broker.depth(backfilledMarkerOf(QUEUE))).resolves.toBe(0);
    const duplicates = (await backfilled('duplicate')) + (await consumed('duplicate'));

    await messaging.stop();
    const restarted = new Registry();
    const again = statistics(subscriber.subscription(OrderHistory.name), restarted);
    await waitFor('the restarted subscriber to be ready', () => again.problem() === undefined);
    const late = aNewOrder();
    await broker.publishMessage('NewOrder', late);
    await waitFor('the order after the restart', () => subscriber.effects.has(late.orderId));

    expect(again.queueProblems()).toEqual({});
    expect(await counter(restarted, 'messages_backfilled_total', { queue: QUEUE })).toBe(0);
    expect(subscriber.countsOf([...all, late.orderId])).toEqual({ missing: [], doubled: [] });
    await again.stop();
    console.log(
      `backfill: ${early.length} early, ${during.length} during, ${after.length} after; ` +
        `${duplicates} duplicates absorbed at the seam`,
    );
  }, 120_000);

  test('when 2,000 orders wait in the history of a fresh queue, then one backfill handles each once (and logs its rate)', async () => {
    await broker.deleteQueue(QUEUE);
    await broker.deleteQueue(backfilledMarkerOf(QUEUE));
    const history = Array.from({ length: 2_000 }, () => aNewOrder());
    await Promise.all(history.map((order) => broker.publishMessage('NewOrder', order)));
    const subscriber = new CountingSubscriber(pool);
    const registry = new Registry();

    const started = Date.now();
    const messaging = statistics(subscriber.subscription(OrderHistory.name), registry);
    await waitFor(
      'the backfill to finish',
      () =>
        messaging.problem() === undefined && Object.keys(messaging.queueProblems()).length === 0,
      { timeoutMs: 60_000 },
    );
    const seconds = (Date.now() - started) / 1000;

    expect(subscriber.countsOf(history.map((order) => order.orderId))).toEqual({
      missing: [],
      doubled: [],
    });
    const read = await counter(registry, 'messages_backfilled_total', { queue: QUEUE });
    console.log(
      `backfill rate: ${read} history messages read in ${seconds.toFixed(1)} s (${Math.round(read / seconds)}/s, an inbox transaction each; the stream's end costs the 0.5 s idle wait)`,
    );
    await messaging.stop();
  }, 120_000);

  test('when a subscriber is stopped in the middle of its backfill, then the next start backfills again from the first offset and every order still has exactly one effect', async () => {
    await broker.deleteQueue(QUEUE);
    await broker.deleteQueue(backfilledMarkerOf(QUEUE));
    const history = Array.from({ length: 1_000 }, () => aNewOrder());
    await Promise.all(history.map((order) => broker.publishMessage('NewOrder', order)));
    const subscriber = new CountingSubscriber(pool);

    const first = statistics(subscriber.subscription(OrderHistory.name), new Registry());
    await waitFor('the first backfill to be under way', () => subscriber.effects.size > 100);
    await first.stop();
    const handledBefore = subscriber.effects.size;
    const connection = await amqplib.connect(vhost.url);
    const markerAfterStop = await queueExists(connection, backfilledMarkerOf(QUEUE));
    await connection.close();
    const registry = new Registry();
    const second = statistics(subscriber.subscription(OrderHistory.name), registry);
    await waitFor(
      'the second backfill to finish',
      () => second.problem() === undefined && Object.keys(second.queueProblems()).length === 0,
      { timeoutMs: 60_000 },
    );

    expect(markerAfterStop).toBe(false);
    expect(handledBefore).toBeGreaterThan(0);
    expect(handledBefore).toBeLessThan(history.length);
    expect(subscriber.countsOf(history.map((order) => order.orderId))).toEqual({
      missing: [],
      doubled: [],
    });
    expect(
      await counter(registry, 'messages_backfilled_total', { queue: QUEUE, outcome: 'duplicate' }),
    ).toBeGreaterThanOrEqual(handledBefore);
    await second.stop();
  }, 120_000);

  test('when the live queue of a backfilled subscriber is deleted under it, then it is made again and what was published meanwhile is caught up from the history, each once', async () => {
    const subscriber = new CountingSubscriber(pool);
    const messaging = statistics(subscriber.subscription(OrderHistory.name), new Registry());
    await waitFor(
      'the subscriber to consume its queue',
      () =>
        messaging.problem() === undefined && Object.keys(messaging.queueProblems()).length === 0,
      { timeoutMs: 60_000 },
    );

    await broker.deleteQueue(QUEUE);
    const meanwhile = Array.from({ length: 50 }, () => aNewOrder());
    for (const order of meanwhile) await broker.publishMessage('NewOrder', order);
    const ids = meanwhile.map((order) => order.orderId);

    await waitFor(
      'the orders published while the queue was gone',
      () => ids.every((id) => subscriber.effects.has(id)),
      { timeoutMs: 60_000 },
    );
    expect(subscriber.countsOf(ids)).toEqual({ missing: [], doubled: [] });
    await messaging.stop();
  }, 120_000);
});
