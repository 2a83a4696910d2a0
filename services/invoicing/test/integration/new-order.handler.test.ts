import { randomUUID } from 'node:crypto';
import {
  aNewOrder,
  request,
  startServiceUnderTest,
  waitFor,
  type ServiceUnderTest,
  type Spy,
  type TestBroker,
  type TestDatabase,
} from '@app/testing';
import { readConfig } from '../../src/config';
import { start, type RunningInvoicingService } from '../../src/main';

describe('invoicing: NewOrder handler against a real broker and database', () => {
  let sut: ServiceUnderTest<RunningInvoicingService>;
  let db: TestDatabase;
  let broker: TestBroker;
  let issued: Spy;
  let url: string;

  beforeAll(async () => {
    sut = await startServiceUnderTest('invoicing', 'invoicing-events', (env) =>
      start(readConfig(env)),
    );
    ({ db, broker, url } = sut);
    issued = await broker.spy('invoicing.events', 'invoice.issued');
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

  const invoicesOf = (orderId: string) =>
    db.query<{ id: string }>('SELECT id FROM invoices WHERE order_id = $1', [orderId]);

  test('when a NewOrder arrives, then one invoice is stored and InvoiceIssued is published, caused by it', async () => {
    const order = aNewOrder();

    const messageId = await broker.publishMessage('NewOrder', order);

    const [event] = await issued.waitForCount(
      1,
      (m) => (m.body as { orderId: string }).orderId === order.orderId,
    );
    expect(event?.body).toMatchObject({
      orderId: order.orderId,
      totalCents: order.totalCents,
      currency: 'EUR',
    });
    expect(event?.raw.properties).toMatchObject({
      type: 'InvoiceIssued',
      appId: 'invoicing',
      correlationId: order.orderId,
      contentType: 'application/json',
      deliveryMode: 2,
    });
    expect(event?.raw.properties.headers?.['x-causation-id']).toBe(messageId);
    expect(await invoicesOf(order.orderId)).toHaveLength(1);

    const listed = await request(`${url}/invoices?orderId=${order.orderId}`);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([
      expect.objectContaining({
        orderId: order.orderId,
        customerId: order.customerId,
        totalCents: order.totalCents,
        status: 'ISSUED',
      }),
    ]);
    const one = await request(`${url}/invoices/${(listed.body as { id: string }[])[0]?.id}`);
    expect(one.body).toMatchObject({ orderId: order.orderId });
  });

  test('when the same NewOrder arrives twice, then one invoice exists', async () => {
    const order = aNewOrder();
    const messageId = randomUUID();

    await broker.publishMessage('NewOrder', order, { messageId });
    await broker.publishMessage('NewOrder', order, { messageId });

    await issued.waitForCount(1, (m) => (m.body as { orderId: string }).orderId === order.orderId);
    await waitFor(
      'both deliveries to be handled',
      async () => (await broker.depth('invoicing.new-order')) === 0,
    );
    await waitFor('the outbox to be empty', async () => (await unsentMessages()) === 0);
    expect(await invoicesOf(order.orderId)).toHaveLength(1);
    expect(
      issued.messages.filter((m) => (m.body as { orderId: string }).orderId === order.orderId),
    ).toHaveLength(1);
  });

  test('when two different NewOrder messages name the same order, then one invoice exists', async () => {
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
    expect(await invoicesOf(order.orderId)).toHaveLength(1);
  });

  test.each([
    ['invalid JSON', Buffer.from('{"orderId": '), {}],
    [
      'a payload of the wrong shape',
      Buffer.from(JSON.stringify({ orderId: 'not-a-uuid', items: [] })),
      {},
    ],
    ['an unknown type', Buffer.from('{}'), { type: 'OrderExploded' }],
    ['a sender other than order', Buffer.from(JSON.stringify(aNewOrder())), { appId: 'shipping' }],
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
        'the good order to be invoiced',
        async () => (await invoicesOf(good.orderId)).length === 1,
      );
      const parked = await waitFor('the poison message to be parked', async () => {
        const messages = await broker.drain('invoicing.new-order.dead');
        return messages.length > 0 ? messages : undefined;
      });
      expect(parked).toHaveLength(1);
      expect(parked[0]?.raw.properties.headers).toMatchObject({
        'x-dead-reason': 'invalid',
        'x-dead-queue': 'invoicing.new-order',
        'x-last-error': expect.any(String),
      });
    },
  );

  test('when invoices are asked for with a malformed order id, then the answer is 400 problem+json naming the field', async () => {
    const response = await request(`${url}/invoices?orderId=nope`);

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body.errors).toEqual([expect.objectContaining({ field: 'query.orderId' })]);
  });

  test('when an unknown invoice is asked for, then the answer is 404', async () => {
    const response = await request(`${url}/invoices/${randomUUID()}`);

    expect(response.status).toBe(404);
    expect(response.body.code).toBe('INVOICE.NOT_FOUND');
  });
});
