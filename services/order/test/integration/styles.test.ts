import { randomUUID } from 'node:crypto';
import { AuthorizePaymentSchema, CreateInvoiceSchema, ShipOrderSchema } from '@app/contracts';
import {
  anOrderRequest,
  request,
  startServiceUnderTest,
  waitFor,
  type ServiceUnderTest,
  type Spy,
} from '@app/testing';
import { readConfig } from '../../src/config';
import { start, type RunningOrderService } from '../../src/main';
import { countRows } from './count-rows';

describe('order: the style of an order decides what it sends', () => {
  let sut: ServiceUnderTest<RunningOrderService>;
  let createInvoice: Spy;
  let shipOrder: Spy;
  let newOrder: Spy;
  let authorizePayment: Spy;

  beforeAll(async () => {
    // Command style by default in this instance, so a request without `style` goes that way.
    sut = await startServiceUnderTest('order', 'order-styles', (env) => start(readConfig(env)), {
      MESSAGING_STYLE: 'command',
    });
    createInvoice = await sut.broker.spy('invoicing.commands', 'CreateInvoice');
    shipOrder = await sut.broker.spy('shipping.commands', 'ShipOrder');
    newOrder = await sut.broker.spy('order.events', 'order.new');
    authorizePayment = await sut.broker.spy('payment.commands', 'AuthorizePayment');
  });

  afterAll(async () => {
    await sut?.teardown();
  });

  const isFor = (orderId: string) => (m: { body: unknown }) =>
    (m.body as { orderId: string }).orderId === orderId;

  const statusOf = async (id: string) => (await request(`${sut.url}/orders/${id}`)).body.status;

  test('when a command-style order is placed, then only AuthorizePayment is sent, with the card token and replyTo order.replies', async () => {
    const placed = await request(`${sut.url}/orders`, {
      body: anOrderRequest({ style: 'command', payment: { cardToken: 'tok_declined' } }),
    });

    expect(placed.status).toBe(202);
    const [ask] = await authorizePayment.waitForCount(1, isFor(placed.body.id));
    expect(AuthorizePaymentSchema.parse(ask?.body)).toEqual({
      orderId: placed.body.id,
      customerId: placed.body.customerId,
      amountCents: placed.body.totalCents,
      currency: placed.body.currency,
      cardToken: 'tok_declined',
    });
    expect(ask?.raw.properties).toMatchObject({ replyTo: 'order.replies', appId: 'order' });
    expect(createInvoice.messages.filter(isFor(placed.body.id))).toHaveLength(0);
    expect(shipOrder.messages.filter(isFor(placed.body.id))).toHaveLength(0);
  });

  test('when the payment of a command-style order is declined, then it is CANCELLED and no command to invoice or ship is ever sent', async () => {
    const placed = await request(`${sut.url}/orders`, {
      body: anOrderRequest({ style: 'command' }),
    });
    await authorizePayment.waitForCount(1, isFor(placed.body.id));

    await sut.broker.publishMessage('PaymentDeclined', {
      paymentId: randomUUID(),
      orderId: placed.body.id,
      reason: 'insufficient_funds',
      declinedAt: new Date().toISOString(),
    });

    await waitFor('the order to be cancelled', async () =>
      (await statusOf(placed.body.id)) === 'CANCELLED' ? true : undefined,
    );
    const order = (await request(`${sut.url}/orders/${placed.body.id}`)).body;
    expect(order.cancellationReason).toBe('insufficient_funds');
    await waitFor('the outbox to be sent', async () =>
      (await countRows(sut.db, 'outbox_messages WHERE sent_at IS NULL')) === 0 ? true : undefined,
    );
    expect(
      await countRows(
        sut.db,
        "outbox_messages WHERE type IN ('CreateInvoice', 'ShipOrder') AND payload->>'orderId' = $1",
        [placed.body.id],
      ),
    ).toBe(0);
    expect(createInvoice.messages.filter(isFor(placed.body.id))).toHaveLength(0);
    expect(shipOrder.messages.filter(isFor(placed.body.id))).toHaveLength(0);
  });

  test('when the payment of a command-style order is authorized, then CreateInvoice and ShipOrder are sent with replyTo order.replies and no NewOrder', async () => {
    const placed = await request(`${sut.url}/orders`, {
      body: anOrderRequest({ style: 'command' }),
    });

    expect(placed.status).toBe(202);
    expect(placed.body.style).toBe('command');
    await authorizePayment.waitForCount(1, isFor(placed.body.id));
    await sut.broker.publishMessage('PaymentAuthorized', {
      paymentId: randomUUID(),
      orderId: placed.body.id,
      amountCents: placed.body.totalCents,
      currency: placed.body.currency,
      authorizedAt: new Date().toISOString(),
    });
    const [invoiceCommand] = await createInvoice.waitForCount(1, isFor(placed.body.id));
    const [shipCommand] = await shipOrder.waitForCount(1, isFor(placed.body.id));
    expect(CreateInvoiceSchema.parse(invoiceCommand?.body)).toMatchObject({
      orderId: placed.body.id,
      totalCents: placed.body.totalCents,
      customerId: placed.body.customerId,
    });
    expect(ShipOrderSchema.parse(shipCommand?.body)).toMatchObject({
      orderId: placed.body.id,
      shippingAddress: placed.body.shippingAddress,
    });
    for (const command of [invoiceCommand, shipCommand]) {
      expect(command?.raw.properties).toMatchObject({
        replyTo: 'order.replies',
        appId: 'order',
        correlationId: placed.body.id,
      });
    }
    expect(newOrder.messages.filter(isFor(placed.body.id))).toHaveLength(0);
  });

  test('when an order names no style, then MESSAGING_STYLE decides', async () => {
    const placed = await request(`${sut.url}/orders`, { body: anOrderRequest() });

    expect(placed.body.style).toBe('command');
    await authorizePayment.waitForCount(1, isFor(placed.body.id));
  });

  test('when an event-style order is placed, then NewOrder is announced and no command is sent', async () => {
    const placed = await request(`${sut.url}/orders`, { body: anOrderRequest({ style: 'event' }) });

    await newOrder.waitForCount(1, isFor(placed.body.id));
    expect(createInvoice.messages.filter(isFor(placed.body.id))).toHaveLength(0);
    expect(shipOrder.messages.filter(isFor(placed.body.id))).toHaveLength(0);
  });

  test.each([['telepathy'], [''], [42], [null]])(
    'when the style is %p, then the answer is 400 naming style and nothing is stored',
    async (style) => {
      const before = await countRows(sut.db, 'orders');

      const response = await request(`${sut.url}/orders`, { body: anOrderRequest({ style }) });

      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([expect.objectContaining({ field: 'style' })]);
      expect(await countRows(sut.db, 'orders')).toBe(before);
    },
  );
});
