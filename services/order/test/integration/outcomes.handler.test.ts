import { randomUUID } from 'node:crypto';
import type { InvoiceIssued, ShipmentPrepared } from '@app/contracts';
import {
  anOrderRequest,
  request,
  startServiceUnderTest,
  waitFor,
  type ReceivedMessage,
  type ServiceUnderTest,
  type TestBroker,
  type TestDatabase,
} from '@app/testing';
import { readConfig } from '../../src/config';
import { start, type RunningOrderService } from '../../src/main';
import { countRows } from './count-rows';

describe('order: InvoiceIssued and ShipmentPrepared handlers against a real broker and database', () => {
  let sut: ServiceUnderTest<RunningOrderService>;
  let db: TestDatabase;
  let broker: TestBroker;
  let url: string;

  beforeAll(async () => {
    sut = await startServiceUnderTest('order', 'order-outcomes', (env) => start(readConfig(env)));
    ({ db, broker, url } = sut);
  });

  afterAll(async () => {
    await sut?.teardown();
  });

  const placeOrder = async (): Promise<{ id: string; totalCents: number }> => {
    const response = await request(`${url}/orders`, { body: anOrderRequest() });
    expect(response.status).toBe(202);
    return response.body;
  };

  const anInvoiceIssued = (order: { id: string; totalCents?: number }): InvoiceIssued => ({
    invoiceId: randomUUID(),
    orderId: order.id,
    totalCents: order.totalCents ?? 2_899,
    currency: 'EUR',
    issuedAt: new Date().toISOString(),
  });

  const aShipmentPrepared = (order: { id: string }): ShipmentPrepared => ({
    shipmentId: randomUUID(),
    orderId: order.id,
    preparedAt: new Date().toISOString(),
  });

  const orderOf = async (id: string) => (await request(`${url}/orders/${id}`)).body;

  const orderReaches = (id: string, status: string) =>
    waitFor(`order ${id} to be ${status}`, async () => {
      const order = await orderOf(id);
      return order?.status === status ? order : undefined;
    });

  const inboxRows = (messageId: string) =>
    countRows(db, 'inbox_messages WHERE message_id = $1', [messageId]);

  /** Deliveries of `queue` the consumer reported with `outcome`, read from /metrics. */
  const consumed = async (queue: string, outcome: string): Promise<number> => {
    const metrics = (await request(`${url}/metrics`)).body as string;
    const line = metrics
      .split('\n')
      .find(
        (l) =>
          l.startsWith('messages_consumed_total{') &&
          l.includes(`queue="${queue}"`) &&
          l.includes(`outcome="${outcome}"`),
      );
    return line ? Number(line.split(' ').at(-1)) : 0;
  };

  /** Drains `queue` until messages with these properties arrive; returns those. */
  const parkedIn = (queue: string, properties: { messageId?: string; correlationId?: string }) => {
    const taken: ReceivedMessage[] = [];
    const matches = (m: ReceivedMessage) =>
      Object.entries(properties).every(
        ([name, value]) => m.raw.properties[name as keyof typeof properties] === value,
      );
    return waitFor(`${JSON.stringify(properties)} to be parked in ${queue}`, async () => {
      taken.push(...(await broker.drain(queue)));
      const parked = taken.filter(matches);
      return parked.length > 0 ? parked : undefined;
    });
  };

  test('when InvoiceIssued arrives for a placed order, then the order is INVOICED with the invoice id', async () => {
    const order = await placeOrder();
    const invoice = anInvoiceIssued(order);

    await broker.publishMessage('InvoiceIssued', invoice);

    const invoiced = await orderReaches(order.id, 'INVOICED');
    expect(invoiced).toMatchObject({ invoiceId: invoice.invoiceId, shipmentId: null });
  });

  const authorize = (order: { id: string; totalCents: number }) =>
    broker.publishMessage('AuthorizationAccepted', {
      paymentId: randomUUID(),
      orderId: order.id,
      amountCents: order.totalCents,
      currency: 'EUR',
      authorizedAt: new Date().toISOString(),
    });

  test('when ShipmentPrepared follows InvoiceIssued, then the order is COMPLETED with both ids', async () => {
    const order = await placeOrder();
    await authorize(order);
    await orderReaches(order.id, 'AUTHORIZED');
    const invoice = anInvoiceIssued(order);
    await broker.publishMessage('InvoiceIssued', invoice);
    await orderReaches(order.id, 'INVOICED');
    const shipment = aShipmentPrepared(order);

    await broker.publishMessage('ShipmentPrepared', shipment);

    const completed = await orderReaches(order.id, 'COMPLETED');
    expect(completed).toMatchObject({
      invoiceId: invoice.invoiceId,
      shipmentId: shipment.shipmentId,
    });
  });

  test('when ShipmentPrepared arrives before InvoiceIssued and the payment comes last, then the order is SHIPPED, AWAITING_PAYMENT and then COMPLETED', async () => {
    const order = await placeOrder();
    const shipment = aShipmentPrepared(order);

    await broker.publishMessage('ShipmentPrepared', shipment);

    const shipped = await orderReaches(order.id, 'SHIPPED');
    expect(shipped).toMatchObject({ shipmentId: shipment.shipmentId, invoiceId: null });
    const invoice = anInvoiceIssued(order);

    await broker.publishMessage('InvoiceIssued', invoice);
    await orderReaches(order.id, 'AWAITING_PAYMENT');
    await authorize(order);

    const completed = await orderReaches(order.id, 'COMPLETED');
    expect(completed).toMatchObject({
      invoiceId: invoice.invoiceId,
      shipmentId: shipment.shipmentId,
    });
  });

  /** A counter of Order's /metrics without labels. */
  const counter = async (name: string): Promise<number> => {
    const metrics = (await request(`${url}/metrics`)).body as string;
    const line = metrics.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };

  test('when the three outcomes of many orders arrive at once on their three queues, then every order completes and none of the changes had to be decided again', async () => {
    const orders = await Promise.all(Array.from({ length: 20 }, placeOrder));
    const before = await counter('order_changes_decided_again_total');

    await Promise.all(
      orders.flatMap((order) => [
        authorize(order),
        broker.publishMessage('InvoiceIssued', anInvoiceIssued(order)),
        broker.publishMessage('ShipmentPrepared', aShipmentPrepared(order)),
      ]),
    );

    for (const order of orders) await orderReaches(order.id, 'COMPLETED');
    // Applied side by side, the outcomes of one order would find it changed under them.
    expect((await counter('order_changes_decided_again_total')) - before).toBe(0);
  });

  test('when another instance changed the order after this one last wrote it, then the outcome is decided again on the order as it is', async () => {
    const order = await placeOrder();
    await authorize(order);
    await orderReaches(order.id, 'AUTHORIZED');
    const before = await counter('order_changes_decided_again_total');
    // What another instance of Order recording the invoice would have written.
    const invoiceId = randomUUID();
    await db.query(
      `UPDATE orders SET status = 'INVOICED', invoice_id = $2::uuid, updated_at = now() WHERE id = $1::uuid`,
      [order.id, invoiceId],
    );
    const shipment = aShipmentPrepared(order);

    await broker.publishMessage('ShipmentPrepared', shipment);

    const completed = await orderReaches(order.id, 'COMPLETED');
    expect(completed).toMatchObject({ invoiceId, shipmentId: shipment.shipmentId });
    expect((await counter('order_changes_decided_again_total')) - before).toBe(1);
  });

  test('when the same InvoiceIssued is delivered twice, then it is applied once', async () => {
    const order = await placeOrder();
    const invoice = anInvoiceIssued(order);
    const messageId = randomUUID();
    const duplicatesBefore = await consumed('order.invoice-issued', 'duplicate');
    await broker.publishMessage('InvoiceIssued', invoice, { messageId });
    const invoiced = await orderReaches(order.id, 'INVOICED');

    await broker.publishMessage('InvoiceIssued', invoice, { messageId });

    await waitFor(
      'the second delivery to be recognised as a duplicate',
      async () => (await consumed('order.invoice-issued', 'duplicate')) === duplicatesBefore + 1,
    );
    expect(await inboxRows(messageId)).toBe(1);
    expect(await orderOf(order.id)).toEqual(invoiced);
  });

  test('when a second InvoiceIssued names another invoice for an invoiced order, then the first invoice id is kept', async () => {
    const order = await placeOrder();
    const first = anInvoiceIssued(order);
    await broker.publishMessage('InvoiceIssued', first);
    await orderReaches(order.id, 'INVOICED');
    const second = anInvoiceIssued(order);

    const messageId = await broker.publishMessage('InvoiceIssued', second);

    await waitFor(
      'the second message in the inbox',
      async () => (await inboxRows(messageId)) === 1,
    );
    expect(await orderOf(order.id)).toMatchObject({
      status: 'INVOICED',
      invoiceId: first.invoiceId,
    });
  });

  test('when InvoiceIssued names an unknown order, then it is retried and parked in .dead as failed, not acknowledged as processed', async () => {
    const invoice = anInvoiceIssued({ id: randomUUID() });

    const messageId = await broker.publishMessage('InvoiceIssued', invoice);

    const parked = await parkedIn('order.invoice-issued.dead', { messageId });
    expect(parked).toHaveLength(1);
    expect(parked[0]?.raw.properties.headers).toMatchObject({
      'x-dead-reason': 'failed',
      'x-dead-queue': 'order.invoice-issued',
      'x-retry-attempt': 3,
      'x-last-error': expect.stringContaining(invoice.orderId),
    });
    expect(parked[0]?.body).toEqual(invoice);
    expect(await inboxRows(messageId)).toBe(0);
  });

  test('when ShipmentPrepared names an unknown order, then it is parked in .dead as failed', async () => {
    const shipment = aShipmentPrepared({ id: randomUUID() });

    const messageId = await broker.publishMessage('ShipmentPrepared', shipment);

    const parked = await parkedIn('order.shipment-prepared.dead', { messageId });
    expect(parked[0]?.raw.properties.headers).toMatchObject({ 'x-dead-reason': 'failed' });
    expect(await inboxRows(messageId)).toBe(0);
  });

  test.each([
    ['a payload of the wrong shape', { invoiceId: 'not-a-uuid', totalCents: -1 }, {}],
    ['a sender other than invoicing', undefined, { appId: 'shipping' }],
    ['no message id', undefined, { messageId: '' }],
  ])(
    'when a poison InvoiceIssued with %s arrives, then it is parked in .dead as invalid and the next good one is processed',
    async (_case, payload, overrides) => {
      const victim = await placeOrder();
      const poisonBody = payload ?? anInvoiceIssued(victim);
      const correlationId = randomUUID();
      await broker.publishRaw(
        'invoicing.events',
        'invoice.issued',
        Buffer.from(JSON.stringify(poisonBody)),
        {
          contentType: 'application/json',
          persistent: true,
          type: 'InvoiceIssued',
          appId: 'invoicing',
          messageId: randomUUID(),
          correlationId,
          ...overrides,
        },
      );
      const order = await placeOrder();
      const good = anInvoiceIssued(order);

      await broker.publishMessage('InvoiceIssued', good);

      await orderReaches(order.id, 'INVOICED');
      const parked = await parkedIn('order.invoice-issued.dead', { correlationId });
      expect(parked).toHaveLength(1);
      expect(parked[0]?.raw.properties.headers).toMatchObject({
        'x-dead-reason': 'invalid',
        'x-dead-queue': 'order.invoice-issued',
        'x-last-error': expect.any(String),
      });
      expect((await orderOf(victim.id)).status).toBe('PLACED');
    },
  );

  describe('payment declined (event style: compensation)', () => {
    const decline = (order: { id: string }, messageId?: string) =>
      broker.publishMessage(
        'AuthorizationDeclined',
        {
          paymentId: randomUUID(),
          orderId: order.id,
          reason: 'card_declined',
          declinedAt: new Date().toISOString(),
        },
        messageId ? { messageId } : {},
      );

    test('when the payment is declined after the invoice, then the order is CANCELLED and one OrderCancelled is announced', async () => {
      const cancellations = await broker.spy('order.events', 'order.cancelled');
      const order = await placeOrder();
      await broker.publishMessage('InvoiceIssued', anInvoiceIssued(order));
      await orderReaches(order.id, 'INVOICED');

      await decline(order);

      const cancelled = await orderReaches(order.id, 'CANCELLED');
      expect(cancelled).toMatchObject({ cancellationReason: 'card_declined' });
      const announced = await waitFor('OrderCancelled to be published', async () => {
        const mine = cancellations.messages.filter(
          (m) => (m.body as { orderId: string }).orderId === order.id,
        );
        return mine.length > 0 ? mine : undefined;
      });
      expect(announced[0]?.body).toMatchObject({ orderId: order.id, reason: 'card_declined' });
    });

    test('when the decline arrives again under a new id and a late ShipmentPrepared follows, then the order stays CANCELLED and OrderCancelled is announced once', async () => {
      const cancellations = await broker.spy('order.events', 'order.cancelled');
      const order = await placeOrder();
      await decline(order);
      await orderReaches(order.id, 'CANCELLED');

      const again = await decline(order);
      const late = await broker.publishMessage('ShipmentPrepared', aShipmentPrepared(order));
      for (const messageId of [again, late]) {
        await waitFor(`message ${messageId} to be handled`, async () =>
          (await inboxRows(messageId)) === 1 ? true : undefined,
        );
      }

      const after = await orderOf(order.id);
      expect(after).toMatchObject({ status: 'CANCELLED', shipmentId: null });
      const outbox = await countRows(
        db,
        "outbox_messages WHERE type = 'OrderCancelled' AND payload->>'orderId' = $1",
        [order.id],
      );
      expect(outbox).toBe(1);
      await waitFor('the outbox to be sent', async () =>
        (await countRows(db, 'outbox_messages WHERE sent_at IS NULL')) === 0 ? true : undefined,
      );
      expect(
        cancellations.messages.filter((m) => (m.body as { orderId: string }).orderId === order.id),
      ).toHaveLength(1);
    });
  });
});
