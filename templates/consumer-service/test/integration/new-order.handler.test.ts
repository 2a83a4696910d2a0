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
import { readConfig } from '../../src/config';
import { pointsFor } from '../../src/domain/points';
import { start, type Running__Name__Service } from '../../src/main';

describe('__name__: NewOrder handler against a real broker and database', () => {
  let sut: ServiceUnderTest<Running__Name__Service>;
  let db: TestDatabase;
  let broker: TestBroker;
  let url: string;

  beforeAll(async () => {
    // No Order here, so no history stream to catch up from: the live queue only.
    sut = await startServiceUnderTest(
      '__name__',
      '__name__-events',
      (env) => start(readConfig(env)),
      { __NAME___BACKFILL: 'false' },
    );
    ({ db, broker, url } = sut);
  });

  afterAll(async () => {
    await sut?.teardown();
  });

  const recorded = (orderId: string) =>
    waitFor(`__name__ to record order ${orderId}`, async () => {
      const response = await request(`${url}/__name__/orders/${orderId}`);
      return response.status === 200 ? (response.body as Record<string, unknown>) : undefined;
    });

  /** The consumer's own count of deliveries by outcome, read from /metrics. */
  const consumed = async (outcome: string): Promise<number> => {
    const text = (await request(`${url}/metrics`)).body as string;
    const line = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('messages_consumed_total{') &&
          l.includes('queue="__name__.new-order"') &&
          l.includes(`outcome="${outcome}"`),
      );
    return line ? Number(line.split(' ').pop()) : 0;
  };

  test('when a NewOrder arrives, then its order is recorded with its points, customer and total', async () => {
    const order = aNewOrder({ items: [anItem({ quantity: 3, unitPriceCents: 1_250 })] });

    await broker.publishMessage('NewOrder', order);

    expect(await recorded(order.orderId)).toEqual({
      orderId: order.orderId,
      customerId: order.customerId,
      points: pointsFor(order),
      totalCents: 3_750,
      currency: order.currency,
      placedAt: order.placedAt,
      recordedAt: expect.any(String),
    });
    const balance = await request(`${url}/__name__/points?customerId=${order.customerId}`);
    expect(balance.body).toEqual({
      customerId: order.customerId,
      points: pointsFor(order),
      orders: 1,
    });
  });

  test('when the same NewOrder arrives twice, then one row and one inbox entry exist, and the second is counted a duplicate', async () => {
    const duplicatesBefore = await consumed('duplicate');
    const order = aNewOrder();
    const messageId = randomUUID();

    await broker.publishMessage('NewOrder', order, { messageId });
    await broker.publishMessage('NewOrder', order, { messageId });

    await waitFor(
      'the second delivery to be recognised as a duplicate',
      async () => (await consumed('duplicate')) === duplicatesBefore + 1,
    );
    const balance = await request(`${url}/__name__/points?customerId=${order.customerId}`);
    expect(balance.body).toMatchObject({ orders: 1 });
    expect(
      await db.query('SELECT 1 FROM inbox_messages WHERE message_id = $1', [messageId]),
    ).toHaveLength(1);
  });

  test('when one order is announced again under a new message id, then it is recorded once and the second counted a duplicate', async () => {
    const duplicatesBefore = await consumed('duplicate');
    const order = aNewOrder();

    await broker.publishMessage('NewOrder', order);
    await broker.publishMessage('NewOrder', order);

    await waitFor(
      'the second announcement to be recognised as a duplicate',
      async () => (await consumed('duplicate')) === duplicatesBefore + 1,
    );
    const balance = await request(`${url}/__name__/points?customerId=${order.customerId}`);
    expect(balance.body).toMatchObject({ orders: 1 });
  });

  test('when a NewOrder with a negative total arrives, then it is parked in .dead and not recorded', async () => {
    const poison = { ...aNewOrder(), totalCents: -5 };

    await broker.publishRaw('order.events', 'order.new', Buffer.from(JSON.stringify(poison)), {
      contentType: 'application/json',
      persistent: true,
      type: 'NewOrder',
      appId: 'order',
      correlationId: poison.orderId,
      messageId: randomUUID(),
    });

    const parked = await waitFor('the poison message to be parked', async () => {
      const messages = await broker.drain('__name__.new-order.dead');
      return messages.length > 0 ? messages : undefined;
    });
    expect(parked[0]?.raw.properties.headers).toMatchObject({ 'x-dead-reason': 'invalid' });
    expect((await request(`${url}/__name__/orders/${poison.orderId}`)).status).toBe(404);
  });

  test('when the points of an unknown order or a customer query without customerId are asked for, then 404 and 400 answer', async () => {
    expect((await request(`${url}/__name__/orders/${randomUUID()}`)).status).toBe(404);
    expect((await request(`${url}/__name__/orders/not-a-uuid`)).status).toBe(404);
    expect((await request(`${url}/__name__/points`)).status).toBe(400);
  });
});
