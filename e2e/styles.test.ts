import { randomUUID } from 'node:crypto';
import { Exchanges } from '@app/contracts';
import {
  TestBroker,
  anOrderRequest,
  request,
  startSystem,
  waitFor,
  type RunningSystem,
} from '@app/testing';

const completed = (system: RunningSystem, id: string) =>
  waitFor(`order ${id} to complete`, async () => {
    const order = await request(`${system.services.order.url}/orders/${id}`);
    return order.body.status === 'COMPLETED' ? order.body : undefined;
  });

describe('end to end: command style beside event style in one running system', () => {
  let system: RunningSystem;

  beforeAll(async () => {
    system = await startSystem({ label: 'e2e_styles' });
  });

  afterAll(async () => {
    await system?.teardown();
  });

  test('when one order of each style is placed, then both complete with one invoice and one shipment each, and Statistics counts only the event-style one', async () => {
    const { order, invoicing, shipping, statistics } = system.services;

    const byEvent = await request(`${order.url}/orders`, {
      body: anOrderRequest({ style: 'event' }),
    });
    const byCommand = await request(`${order.url}/orders`, {
      body: anOrderRequest({ style: 'command' }),
    });

    expect(byEvent.body.style).toBe('event');
    expect(byCommand.body.style).toBe('command');
    for (const placed of [byEvent, byCommand]) {
      const done = await completed(system, placed.body.id);
      const invoices = await request(`${invoicing.url}/invoices?orderId=${placed.body.id}`);
      const shipments = await request(`${shipping.url}/shipments?orderId=${placed.body.id}`);
      expect(invoices.body).toHaveLength(1);
      expect(shipments.body).toHaveLength(1);
      expect(done.invoiceId).toBe(invoices.body[0].id);
      expect(done.shipmentId).toBe(shipments.body[0].id);
    }
    const stats = await waitFor('statistics to count the event-style order', async () => {
      const current = await request(`${statistics.url}/statistics`);
      return current.body.orders >= 1 ? current.body : undefined;
    });
    expect(stats.orders).toBe(1);
    expect(stats.revenueCents).toBe(byEvent.body.totalCents);
    const commandTrail = system.services.order.logs.filter(
      (line) => line.correlationId === byCommand.body.id,
    );
    expect(commandTrail.map((line) => line.msg)).toEqual(
      expect.arrayContaining(['order placed', 'invoice reply recorded', 'shipment reply recorded']),
    );
  });
});

describe('end to end: zero receivers, Order deployed alone', () => {
  let system: RunningSystem;
  let broker: TestBroker;

  beforeAll(async () => {
    system = await startSystem({ label: 'e2e_alone', services: ['order'] });
    broker = await TestBroker.connect(system.vhost.url);
  });

  afterAll(async () => {
    await broker?.close();
    await system?.teardown();
  });

  test('when a command-style order is placed and no recipient is deployed, then the command comes back unroutable and the order FAILED with the reason', async () => {
    const { order } = system.services;

    const placed = await request(`${order.url}/orders`, {
      body: anOrderRequest({ style: 'command' }),
    });

    expect(placed.status).toBe(202);
    const failed = await waitFor('the order to fail', async () => {
      const current = await request(`${order.url}/orders/${placed.body.id}`);
      return current.body.status === 'FAILED' ? current.body : undefined;
    });
    expect(failed.failureReason).toMatch(
      /AuthorizePayment could not be delivered: no queue is bound to payment\.commands/,
    );
    expect((await request(`${order.url}/health/ready`)).status).toBe(200);
  });

  test('when an event-style order is placed and nobody subscribes, then NewOrder is simply published and nothing breaks', async () => {
    const { order } = system.services;

    const placed = await request(`${order.url}/orders`, {
      body: anOrderRequest({ style: 'event' }),
    });

    await waitFor('the outbox to be empty', async () => {
      const [row] = await system.databases.order.query<{ n: string }>(
        'SELECT count(*) AS n FROM outbox_messages WHERE sent_at IS NULL',
      );
      return Number(row?.n) === 0;
    });
    const metrics = await request(`${order.url}/metrics`);
    expect(metrics.body).toMatch(
      /messages_published_total\{type="NewOrder",outcome="confirmed"\} [1-9]/,
    );
    expect((await request(`${order.url}/orders/${placed.body.id}`)).body.status).toBe('PLACED');
    expect((await request(`${order.url}/health/ready`)).status).toBe(200);
  });

  test('when the same reply arrives twice, then Order applies it once', async () => {
    const { order } = system.services;
    // Stand in for the recipients: queues bound to the command exchanges make commands routable.
    const paymentCommands = await broker.spy(Exchanges.paymentCommands.name, 'AuthorizePayment');
    const invoiceCommands = await broker.spy(Exchanges.invoicingCommands.name, 'CreateInvoice');
    const shipCommands = await broker.spy(Exchanges.shippingCommands.name, 'ShipOrder');
    const placed = await request(`${order.url}/orders`, {
      body: anOrderRequest({ style: 'command' }),
    });
    const orderId: string = placed.body.id;
    await paymentCommands.waitForCount(
      1,
      (m) => (m.body as { orderId: string }).orderId === orderId,
    );
    await broker.publishMessage('PaymentAuthorized', {
      paymentId: randomUUID(),
      orderId,
      amountCents: placed.body.totalCents,
      currency: placed.body.currency,
      authorizedAt: new Date().toISOString(),
    });
    const [command] = await invoiceCommands.waitForCount(
      1,
      (m) => (m.body as { orderId: string }).orderId === orderId,
    );
    await shipCommands.waitForCount(1, (m) => (m.body as { orderId: string }).orderId === orderId);
    expect(command?.raw.properties.replyTo).toBe('order.replies');
    const replyId = randomUUID();
    const invoiceId = randomUUID();

    await broker.publishMessage('InvoiceCreated', { invoiceId, orderId }, { messageId: replyId });
    await broker.publishMessage('InvoiceCreated', { invoiceId, orderId }, { messageId: replyId });
    await broker.publishMessage('ShipmentCreated', { shipmentId: randomUUID(), orderId });

    const done = await completed(system, orderId);
    expect(done.invoiceId).toBe(invoiceId);
    await waitFor(
      'both copies of the reply to be handled',
      async () => (await broker.depth('order.command-replies')) === 0,
    );
    const inbox = await system.databases.order.query(
      'SELECT 1 FROM inbox_messages WHERE message_id = $1',
      [replyId],
    );
    expect(inbox).toHaveLength(1);
    const metrics = await request(`${order.url}/metrics`);
    expect(metrics.body).toMatch(
      /messages_consumed_total\{queue="order.command-replies",type="InvoiceCreated",outcome="duplicate"\} 1/,
    );
  });
});
