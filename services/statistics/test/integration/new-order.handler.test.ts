import { randomUUID } from 'node:crypto';
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
import { sumOfSamples } from '@app/runtime';
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
  lastOrderAt: string | null;
  byCurrency: CurrencyTotals[];
}

// The database is fresh for this file and each test uses currencies of its own, so every
// total below is exact rather than "at least".
describe('statistics: NewOrder handler against a real broker and database', () => {
  let sut: ServiceUnderTest<RunningStatisticsService>;
  let db: TestDatabase;
  let broker: TestBroker;
  let url: string;

  beforeAll(async () => {
    sut = await startServiceUnderTest('statistics', 'statistics-events', (env) =>
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

  const totalsOf = (stats: Statistics, currency: string) =>
    stats.byCurrency.find((t) => t.currency === currency);

  const waitForOrders = (count: number) =>
    waitFor(`statistics to count ${count} orders`, async () => {
      const stats = await statistics();
      return stats.orders === count ? stats : undefined;
    });

  /** The consumer's own count of deliveries by outcome, read from /metrics. */
  const consumed = async (outcome: string): Promise<number> => {
    const text = (await request(`${url}/metrics`)).body as string;
    const line = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('messages_consumed_total{') &&
          l.includes('queue="statistics.new-order"') &&
          l.includes(`outcome="${outcome}"`),
      );
    return line ? Number(line.split(' ').pop()) : 0;
  };

  const latest = (...dates: (string | null)[]): string =>
    dates.filter((d): d is string => d !== null).reduce((a, b) => (a > b ? a : b));

  test('when a NewOrder arrives, then it is counted in orders, revenue, items sold, last order time and its currency', async () => {
    const before = await statistics();
    const order = aNewOrder({
      currency: 'EUR',
      items: [
        anItem({ quantity: 2, unitPriceCents: 1_250 }),
        anItem({ sku: 'SKU-PEN-7', quantity: 3, unitPriceCents: 399 }),
      ],
    });

    await broker.publishMessage('NewOrder', order);

    const after = await waitForOrders(before.orders + 1);
    expect(after).toMatchObject({
      orders: before.orders + 1,
      cancelledOrders: before.cancelledOrders,
      revenueCents: before.revenueCents + 2 * 1_250 + 3 * 399,
      itemsSold: before.itemsSold + 5,
      lastOrderAt: latest(before.lastOrderAt, order.placedAt),
    });
    expect(totalsOf(after, 'EUR')).toEqual({
      currency: 'EUR',
      orders: 1,
      cancelledOrders: 0,
      revenueCents: 2 * 1_250 + 3 * 399,
      itemsSold: 5,
      lastOrderAt: order.placedAt,
    });
  });

  test('when the same NewOrder arrives twice, then it is counted once', async () => {
    const before = await statistics();
    const duplicatesBefore = await consumed('duplicate');
    const order = aNewOrder({ currency: 'CHF' });
    const messageId = randomUUID();

    await broker.publishMessage('NewOrder', order, { messageId });
    await broker.publishMessage('NewOrder', order, { messageId });

    await waitFor(
      'the second delivery to be recognised as a duplicate',
      async () => (await consumed('duplicate')) === duplicatesBefore + 1,
    );
    const after = await statistics();
    expect(after.orders).toBe(before.orders + 1);
    expect(after.revenueCents).toBe(before.revenueCents + order.totalCents);
    expect(totalsOf(after, 'CHF')).toMatchObject({ orders: 1, revenueCents: order.totalCents });
  });

  test('when orders in two currencies arrive, then byCurrency splits them and the totals add both', async () => {
    const before = await statistics();
    const dollars = aNewOrder({
      currency: 'USD',
      items: [anItem({ quantity: 1, unitPriceCents: 10_000 })],
    });
    const pounds = [
      aNewOrder({ currency: 'GBP', items: [anItem({ quantity: 4, unitPriceCents: 250 })] }),
      aNewOrder({ currency: 'GBP', items: [anItem({ quantity: 1, unitPriceCents: 99 })] }),
    ];

    for (const order of [dollars, ...pounds]) await broker.publishMessage('NewOrder', order);

    const after = await waitForOrders(before.orders + 3);
    expect(totalsOf(after, 'USD')).toEqual({
      currency: 'USD',
      orders: 1,
      cancelledOrders: 0,
      revenueCents: 10_000,
      itemsSold: 1,
      lastOrderAt: dollars.placedAt,
    });
    expect(totalsOf(after, 'GBP')).toEqual({
      currency: 'GBP',
      orders: 2,
      cancelledOrders: 0,
      revenueCents: 1_000 + 99,
      itemsSold: 5,
      lastOrderAt: latest(pounds[0]!.placedAt, pounds[1]!.placedAt),
    });
    expect(after.revenueCents).toBe(before.revenueCents + 10_000 + 1_099);
    expect(after.itemsSold).toBe(before.itemsSold + 6);
    expect(after.byCurrency.map((t) => t.currency)).toEqual(
      [...after.byCurrency.map((t) => t.currency)].sort(),
    );
  });

  test('when 50 NewOrders of one currency arrive at once, then exactly 50 are counted with no lost update', async () => {
    const before = await statistics();
    const start = Date.parse('2030-01-01T00:00:00.000Z');
    const orders = Array.from({ length: 50 }, (_, i) =>
      aNewOrder({
        currency: 'JPY',
        items: [anItem({ quantity: (i % 3) + 1, unitPriceCents: 100 + i })],
        placedAt: new Date(start + i * 1_000).toISOString(),
      }),
    );

    await Promise.all(orders.map((order) => broker.publishMessage('NewOrder', order)));

    const after = await waitForOrders(before.orders + 50);
    expect(totalsOf(after, 'JPY')).toEqual({
      currency: 'JPY',
      orders: 50,
      cancelledOrders: 0,
      revenueCents: orders.reduce((sum, o) => sum + o.totalCents, 0),
      itemsSold: orders.reduce((sum, o) => sum + o.items[0]!.quantity, 0),
      lastOrderAt: orders[49]!.placedAt,
    });
    expect(after.revenueCents).toBe(
      before.revenueCents + orders.reduce((sum, o) => sum + o.totalCents, 0),
    );
    expect(await db.query('SELECT 1 FROM inbox_messages')).toHaveLength(after.orders);
  });

  test.each([
    ['invalid JSON', Buffer.from('{"orderId": '), {}],
    [
      'a payload of the wrong shape',
      Buffer.from(JSON.stringify({ ...aNewOrder(), totalCents: -5 })),
      {},
    ],
    ['an unknown type', Buffer.from('{}'), { type: 'OrderExploded' }],
    ['a sender other than order', Buffer.from(JSON.stringify(aNewOrder())), { appId: 'shipping' }],
    ['no message id', Buffer.from(JSON.stringify(aNewOrder())), { messageId: undefined }],
  ])(
    'when a poison message with %s arrives, then it is parked in .dead, not counted, and the next good one is counted',
    async (_case, body, overrides) => {
      const before = await statistics();
      await broker.publishRaw('order.events', 'order.new', body, {
        contentType: 'application/json',
        persistent: true,
        type: 'NewOrder',
        appId: 'order',
        correlationId: randomUUID(),
        messageId: randomUUID(),
        ...overrides,
      });
      const good = aNewOrder({ currency: 'SEK' });
      await broker.publishMessage('NewOrder', good);

      const parked = await waitFor('the poison message to be parked', async () => {
        const messages = await broker.drain('statistics.new-order.dead');
        return messages.length > 0 ? messages : undefined;
      });
      await waitForOrders(before.orders + 1);
      expect(parked).toHaveLength(1);
      expect(parked[0]?.raw.properties.headers).toMatchObject({
        'x-dead-reason': 'invalid',
        'x-dead-queue': 'statistics.new-order',
        'x-last-error': expect.any(String),
      });
      expect((await statistics()).orders).toBe(before.orders + 1);
    },
  );

  test('when NewOrders pile up and are counted in batches, then every order counts once, the cancelled one without revenue, and the totals per currency are exact', async () => {
    const before = await statistics();
    const batchesBefore = sumOfSamples(
      (await request(`${url}/metrics`)).body as string,
      'message_batch_size_count',
      { queue: 'statistics.new-order' },
    );
    // Counted before the pile: its NewOrder comes again in it, under another message id.
    const early = aNewOrder({ currency: 'DKK' });
    await broker.publishMessage('NewOrder', early);
    await waitForOrders(before.orders + 1);
    // Cancelled before its NewOrder arrives: counted as placed and cancelled, no revenue.
    const cancelled = aNewOrder({ currency: 'DKK' });
    await broker.publishMessage('OrderCancelled', {
      orderId: cancelled.orderId,
      reason: 'card_declined',
      cancelledAt: new Date().toISOString(),
    });
    await waitFor('the cancellation to be recorded', async () => {
      const rows = await db.query('SELECT 1 FROM cancelled_orders WHERE order_id = $1', [
        cancelled.orderId,
      ]);
      return rows.length === 1;
    });

    // A slow first delivery makes the rest pile up and go in batches.
    await request(`${url}/admin/faults`, { method: 'PUT', body: { handlerDelayMs: 200 } });
    const pile = [
      ...Array.from({ length: 12 }, () => aNewOrder({ currency: 'DKK' })),
      ...Array.from({ length: 12 }, () => aNewOrder({ currency: 'ISK' })),
    ];
    const repeatedId = randomUUID();
    for (const [index, order] of pile.entries()) {
      await broker.publishMessage('NewOrder', order, index === 3 ? { messageId: repeatedId } : {});
      if (index === 5) await broker.publishMessage('NewOrder', early);
      if (index === 7) await broker.publishMessage('NewOrder', cancelled);
      if (index === 9) await broker.publishMessage('NewOrder', pile[3]!, { messageId: repeatedId });
      if (index === 11) await broker.publishMessage('NewOrder', pile[0]!);
    }
    const after = await waitForOrders(before.orders + 2 + pile.length);
    await waitFor(
      'the queue to be empty',
      async () => (await broker.depth('statistics.new-order')) === 0,
    );
    await request(`${url}/admin/faults`, { method: 'PUT', body: {} });

    const sum = (orders: { totalCents: number }[]) =>
      orders.reduce((total, order) => total + order.totalCents, 0);
    const items = (orders: { items: { quantity: number }[] }[]) =>
      orders.reduce(
        (total, order) => total + order.items.reduce((n, item) => n + item.quantity, 0),
        0,
      );
    const danish = [early, ...pile.filter((order) => order.currency === 'DKK')];
    const icelandic = pile.filter((order) => order.currency === 'ISK');
    expect((await statistics()).orders).toBe(after.orders);
    expect(totalsOf(after, 'DKK')).toMatchObject({
      orders: danish.length + 1,
      cancelledOrders: 1,
      revenueCents: sum(danish),
      itemsSold: items(danish),
    });
    expect(totalsOf(after, 'ISK')).toMatchObject({
      orders: icelandic.length,
      cancelledOrders: 0,
      revenueCents: sum(icelandic),
      itemsSold: items(icelandic),
    });
    expect(
      sumOfSamples((await request(`${url}/metrics`)).body as string, 'message_batch_size_count', {
        queue: 'statistics.new-order',
      }) - batchesBefore,
    ).toBeGreaterThan(0);
  });
});
