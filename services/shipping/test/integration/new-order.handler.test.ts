import { randomUUID } from 'node:crypto';
import {
  aNewOrder,
  anAddress,
  anItem,
  request,
  startServiceUnderTest,
  waitFor,
  type ServiceUnderTest,
  type Spy,
  type TestBroker,
  type TestDatabase,
} from '@app/testing';
import { readConfig } from '../../src/config';
import { start, type RunningShippingService } from '../../src/main';

describe('shipping: NewOrder handler against a real broker and database', () => {
  let sut: ServiceUnderTest<RunningShippingService>;
  let db: TestDatabase;
  let broker: TestBroker;
  let prepared: Spy;
  let url: string;

  beforeAll(async () => {
    sut = await startServiceUnderTest('shipping', 'shipping-events', (env) =>
      start(readConfig(env)),
    );
    ({ db, broker, url } = sut);
    prepared = await broker.spy('shipping.events', 'shipment.prepared');
  });

  afterAll(async () => {
    await sut?.teardown();
  });

  const unsentMessages = async () =>
    Number(
      (
        await db.query<{ n: string }>(
          'SELECT count(*) AS n FROM outbox_messages WHERE sent_at IS NULL',
        )
      )[0]?.n,
    );

  const shipmentsOf = (orderId: string) =>
    db.query<{ id: string; items: unknown; shipping_address: unknown; status: string }>(
      'SELECT id, items, shipping_address, status FROM shipments WHERE order_id = $1',
      [orderId],
    );

  const isFor = (orderId: string) => (m: { body: unknown }) =>
    (m.body as { orderId?: string }).orderId === orderId;

  test('when a NewOrder arrives, then one shipment is stored with its items and address and ShipmentPrepared is published, caused by it', async () => {
    const items = [
      anItem({ sku: 'SKU-LAMP-3', quantity: 3 }),
      anItem({ sku: 'SKU-MUG-9', quantity: 1, unitPriceCents: 800 }),
    ];
    const address = anAddress({
      name: 'Grace Hopper',
      city: 'Arlington',
      postalCode: '22201',
      country: 'US',
    });
    const order = aNewOrder({ items, shippingAddress: address });

    const messageId = await broker.publishMessage('NewOrder', order);

    const [event] = await prepared.waitForCount(1, isFor(order.orderId));
    const stored = await shipmentsOf(order.orderId);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ items, shipping_address: address, status: 'PREPARED' });
    expect(event?.body).toEqual({
      shipmentId: stored[0]?.id,
      orderId: order.orderId,
      preparedAt: expect.any(String),
    });
    expect(event?.raw.fields).toMatchObject({
      exchange: 'shipping.events',
      routingKey: 'shipment.prepared',
    });
    expect(event?.raw.properties).toMatchObject({
      type: 'ShipmentPrepared',
      appId: 'shipping',
      correlationId: order.orderId,
      contentType: 'application/json',
      deliveryMode: 2,
    });
    expect(event?.raw.properties.headers?.['x-causation-id']).toBe(messageId);

    const listed = await request(`${url}/shipments?orderId=${order.orderId}`);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([
      expect.objectContaining({
        id: stored[0]?.id,
        orderId: order.orderId,
        items,
        shippingAddress: address,
        status: 'PREPARED',
      }),
    ]);
    const one = await request(`${url}/shipments/${stored[0]?.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id: stored[0]?.id,
      orderId: order.orderId,
      items,
      shippingAddress: address,
    });
  });

  test('when the same NewOrder arrives twice, then one shipment exists', async () => {
    const order = aNewOrder();
    const messageId = randomUUID();

    await broker.publishMessage('NewOrder', order, { messageId });
    await broker.publishMessage('NewOrder', order, { messageId });

    await prepared.waitForCount(1, isFor(order.orderId));
    await waitFor(
      'both deliveries to be handled',
      async () => (await broker.depth('shipping.new-order')) === 0,
    );
    await waitFor('the outbox to be empty', async () => (await unsentMessages()) === 0);
    expect(await shipmentsOf(order.orderId)).toHaveLength(1);
    expect(prepared.messages.filter(isFor(order.orderId))).toHaveLength(1);
  });

  test('when two different NewOrder messages name the same order, then one shipment exists', async () => {
    const order = aNewOrder();

    const first = await broker.publishMessage('NewOrder', order);
    const second = await broker.publishMessage('NewOrder', order);

    await waitFor('both messages in the inbox', async () => {
      const rows = await db.query(
        'SELECT 1 FROM inbox_messages WHERE message_id = ANY($1::uuid[])',
        [[first, second]],
      );
      return rows.length === 2;
    });
    await waitFor('the outbox to be empty', async () => (await unsentMessages()) === 0);
    expect(await shipmentsOf(order.orderId)).toHaveLength(1);
    expect(prepared.messages.filter(isFor(order.orderId))).toHaveLength(1);
  });

  test.each([
    ['invalid JSON', Buffer.from('{"orderId": '), {}],
    [
      'a payload of the wrong shape',
      Buffer.from(JSON.stringify({ orderId: 'not-a-uuid', items: [] })),
      {},
    ],
    ['an unknown type', Buffer.from('{}'), { type: 'OrderExploded' }],
    ['a sender other than order', Buffer.from(JSON.stringify(aNewOrder())), { appId: 'invoicing' }],
    ['no message id', Buffer.from(JSON.stringify(aNewOrder())), { messageId: undefined }],
  ])(
    'when a poison message with %s arrives, then it is parked in .dead with the reason and the next good one is processed',
    async (_case, body, overrides) => {
      const poisonId = randomUUID();
      await broker.publishRaw('order.events', 'order.new', body, {
        contentType: 'application/json',
        persistent: true,
        type: 'NewOrder',
        appId: 'order',
        correlationId: randomUUID(),
        messageId: poisonId,
        ...overrides,
      });
      const good = aNewOrder();
      await broker.publishMessage('NewOrder', good);

      await waitFor(
        'the good order to be shipped',
        async () => (await shipmentsOf(good.orderId)).length === 1,
      );
      const parked = await waitFor('the poison message to be parked', async () => {
        const messages = await broker.drain('shipping.new-order.dead');
        return messages.length > 0 ? messages : undefined;
      });
      expect(parked).toHaveLength(1);
      expect(parked[0]?.raw.properties.headers).toMatchObject({
        'x-dead-reason': 'invalid',
        'x-dead-queue': 'shipping.new-order',
        'x-last-error': expect.any(String),
      });
    },
  );

  test('when shipments are asked for with a malformed order id, then the answer is 400 problem+json naming the field', async () => {
    const response = await request(`${url}/shipments?orderId=nope`);

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body.errors).toEqual([expect.objectContaining({ field: 'query.orderId' })]);
  });

  test('when an unknown shipment is asked for, then the answer is 404', async () => {
    const response = await request(`${url}/shipments/${randomUUID()}`);

    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body.code).toBe('SHIPMENT.NOT_FOUND');
  });
});
