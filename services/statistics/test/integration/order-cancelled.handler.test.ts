import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { OrderCancelled } from '@app/contracts';
import {
  aNewOrder,
  anItem,
  request,
  startServiceUnderTest,
  waitFor,
  type ServiceUnderTest,
  type TestBroker,
  type TestDatabase,
} from '@app/testing';
import { readConfig } from '../../src/config';
import { start, type RunningStatisticsService } from '../../src/main';

interface CurrencyTotals {
  currency: string;
  orders: number;
  cancelledOrders: number;
  revenueCents: number;
  itemsSold: number;
  lastOrderAt: string;
}

interface Statistics {
  orders: number;
  cancelledOrders: number;
  revenueCents: number;
  itemsSold: number;
  byCurrency: CurrencyTotals[];
}

const anOrderCancelled = (orderId: string, overrides: Partial<OrderCancelled> = {}) => ({
  orderId,
  reason: 'card_declined',
  cancelledAt: new Date().toISOString(),
  ...overrides,
});

// The database is fresh for this file and each test uses a currency of its own, so every
// total of a currency below is exact.
describe('statistics: OrderCancelled handler (compensation) against a real broker and database', () => {
  let sut: ServiceUnderTest<RunningStatisticsService>;
  let db: TestDatabase;
  let broker: TestBroker;
  let url: string;

  beforeAll(async () => {
    sut = await startServiceUnderTest('statistics', 'statistics-cancel', (env) =>
      start(readConfig(env)),
    );
    ({ db, broker, url } = sut);
  });

  afterAll(async () => {
    await sut?.teardown();
  });

  const statistics = async (): Promise<Statistics> => {
    const response = await request(`${url}/statistics`);
    expect(response.status).toBe(200);
    return response.body as Statistics;
  };

  const totalsOf = async (currency: string) =>
    (await statistics()).byCurrency.find((t) => t.currency === currency);

  const isHandled = async (messageId: string) =>
    (await db.query('SELECT 1 FROM inbox_messages WHERE message_id = $1', [messageId])).length ===
    1;
  const handled = (...messageIds: string[]) =>
    waitFor(`messages ${messageIds.join(', ')} to be handled`, async () => {
      for (const id of messageIds) if (!(await isHandled(id))) return false;
      return true;
    });

  /** The consumer's own count of deliveries by outcome, read from /metrics. */
  const consumed = async (outcome: string): Promise<number> => {
    const text = (await request(`${url}/metrics`)).body as string;
    const line = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('messages_consumed_total{') &&
          l.includes('queue="statistics.order-cancelled"') &&
          l.includes(`outcome="${outcome}"`),
      );
    return line ? Number(line.split(' ').pop()) : 0;
  };

  /** Statements of the service waiting for a lock. */
  const waiting = async () =>
    Number(
      (
        await db.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        )
      )[0]?.n,
    );

  /** Two orders of one currency: the first stays, the second will be cancelled. */
  const twoOrders = (currency: string) => [
    aNewOrder({ currency, items: [anItem({ quantity: 2, unitPriceCents: 1_000 })] }),
    aNewOrder({ currency, items: [anItem({ quantity: 3, unitPriceCents: 700 })] }),
  ];

  test('when OrderCancelled follows the NewOrder, then its revenue and items leave the totals and it counts as cancelled', async () => {
    const before = await statistics();
    const [kept, cancelled] = twoOrders('NOK');
    for (const order of [kept!, cancelled!]) await broker.publishMessage('NewOrder', order);
    await waitFor('both orders to be counted', async () => (await totalsOf('NOK'))?.orders === 2);

    await broker.publishMessage('OrderCancelled', anOrderCancelled(cancelled!.orderId));

    const totals = await waitFor('the cancelled order to be taken out', async () => {
      const current = await totalsOf('NOK');
      return current?.cancelledOrders === 1 ? current : undefined;
    });
    expect(totals).toMatchObject({
      orders: 2,
      cancelledOrders: 1,
      revenueCents: 2_000,
      itemsSold: 2,
    });
    expect(await statistics()).toMatchObject({
      orders: before.orders + 2,
      cancelledOrders: before.cancelledOrders + 1,
      revenueCents: before.revenueCents + 2_000,
      itemsSold: before.itemsSold + 2,
    });
  });

  test('when OrderCancelled arrives before its NewOrder, then the order counts once, as cancelled, with no revenue', async () => {
    const [kept, cancelled] = twoOrders('DKK');

    const cancellation = await broker.publishMessage(
      'OrderCancelled',
      anOrderCancelled(cancelled!.orderId),
    );
    await handled(cancellation);
    const placed = await Promise.all(
      [kept!, cancelled!].map((order) => broker.publishMessage('NewOrder', order)),
    );
    await handled(...placed);

    expect(await totalsOf('DKK')).toEqual({
      currency: 'DKK',
      orders: 2,
      cancelledOrders: 1,
      revenueCents: 2_000,
      itemsSold: 2,
      lastOrderAt: [kept!.placedAt, cancelled!.placedAt].sort()[1],
    });
  });

  test('when OrderCancelled arrives twice before its NewOrder, and the NewOrder twice after, then the order counts once, as cancelled', async () => {
    const [kept, cancelled] = twoOrders('PLN');

    const cancellations = [
      await broker.publishMessage('OrderCancelled', anOrderCancelled(cancelled!.orderId)),
      await broker.publishMessage('OrderCancelled', anOrderCancelled(cancelled!.orderId)),
    ];
    await handled(...cancellations);
    const placed = [
      await broker.publishMessage('NewOrder', kept!),
      await broker.publishMessage('NewOrder', cancelled!),
      await broker.publishMessage('NewOrder', cancelled!),
    ];
    await handled(...placed);

    expect(await totalsOf('PLN')).toMatchObject({
      orders: 2,
      cancelledOrders: 1,
      revenueCents: 2_000,
      itemsSold: 2,
    });
  });

  test.each([
    ['the same message', 'CZK', true],
    ['a new message id', 'HUF', false],
  ])(
    'when OrderCancelled is delivered twice as %s, then the order is taken out once',
    async (_case, currency, sameMessage) => {
      const [kept, cancelled] = twoOrders(currency);
      for (const order of [kept!, cancelled!]) await broker.publishMessage('NewOrder', order);
      await waitFor('both orders to be counted', async () => {
        return (await totalsOf(currency))?.orders === 2;
      });
      const processedBefore = await consumed('processed');
      const duplicatesBefore = await consumed('duplicate');
      const first = randomUUID();

      await broker.publishMessage('OrderCancelled', anOrderCancelled(cancelled!.orderId), {
        messageId: first,
      });
      await broker.publishMessage('OrderCancelled', anOrderCancelled(cancelled!.orderId), {
        messageId: sameMessage ? first : randomUUID(),
      });

      await waitFor(
        'both deliveries to be handled',
        async () =>
          (await consumed('processed')) + (await consumed('duplicate')) ===
          processedBefore + duplicatesBefore + 2,
      );
      expect(await totalsOf(currency)).toMatchObject({
        orders: 2,
        cancelledOrders: 1,
        revenueCents: 2_000,
        itemsSold: 2,
      });
      expect(await consumed('duplicate')).toBe(duplicatesBefore + 1);
      expect(await broker.depth('statistics.order-cancelled.dead')).toBe(0);
    },
  );

  test('when OrderCancelled is handled while its NewOrder is being counted, then the order still ends taken out', async () => {
    const order = aNewOrder({
      currency: 'ISK',
      items: [anItem({ quantity: 2, unitPriceCents: 500 })],
    });
    // A transaction of the test's own claims the currency's totals row, so the NewOrder's
    // statement waits after it looked for a cancellation and before it commits: the
    // moment at which a concurrent OrderCancelled would find neither tombstone nor count.
    const blocker = new Client({ connectionString: db.url });
    await blocker.connect();
    let cancellation = '';
    try {
      await blocker.query('BEGIN');
      await blocker.query(
        'INSERT INTO currency_totals (currency, last_order_at) VALUES ($1, now())',
        ['ISK'],
      );
      const placed = await broker.publishMessage('NewOrder', order);
      await waitFor('the NewOrder to wait for the blocker', async () => (await waiting()) === 1);
      cancellation = await broker.publishMessage('OrderCancelled', anOrderCancelled(order.orderId));
      await waitFor(
        'the OrderCancelled to wait for the NewOrder, or to be done',
        async () => (await waiting()) === 2 || (await isHandled(cancellation)),
      );
      await blocker.query('ROLLBACK');
      await handled(placed);
    } finally {
      await blocker.end();
    }
    await handled(cancellation);

    expect(await totalsOf('ISK')).toMatchObject({
      orders: 1,
      cancelledOrders: 1,
      revenueCents: 0,
      itemsSold: 0,
    });
  });
});
