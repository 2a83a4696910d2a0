import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import {
  TestBroker,
  aNewOrder,
  request,
  startSystem,
  unbuiltServices,
  type RunningSystem,
  type Spy,
} from '@app/testing';

/**
 * Payment as deployed: a real process on its own broker user with only its own
 * permissions (shared/broker/src/permissions.ts), addressed by Order's user.
 */
describe('payment: least privilege on the broker', () => {
  let system: RunningSystem;
  let asOrder: TestBroker;
  let watcher: TestBroker;
  let replies: Spy;
  let events: Spy;

  beforeAll(async () => {
    const unbuilt = unbuiltServices(['payment']);
    if (unbuilt.length > 0)
      throw new Error('services/payment is not built: npx tsc -b services/payment');
    system = await startSystem({
      label: 'payment_privilege',
      services: ['payment'],
      leastPrivilege: true,
    });
    asOrder = await TestBroker.connect(system.brokerUrls.order);
    watcher = await TestBroker.connect(system.vhost.url);
    replies = await watcher.spy('order.replies', 'PaymentAuthorized');
    events = await watcher.spy('payment.events', '#');
  });

  afterAll(async () => {
    await asOrder?.close();
    await watcher?.close();
    await system?.teardown();
  });

  test("when Order's user sends AuthorizePayment and announces NewOrder, then Payment, on its own user, answers both", async () => {
    const commanded = randomUUID();
    const announced = aNewOrder();

    await asOrder.publishMessage(
      'AuthorizePayment',
      {
        orderId: commanded,
        customerId: 'customer-1',
        amountCents: 100,
        currency: 'EUR',
        cardToken: 'tok_visa',
      },
      { replyTo: 'order.replies' },
    );
    await asOrder.publishMessage('NewOrder', announced);

    const [reply] = await replies.waitForCount(1);
    const [event] = await events.waitForCount(1);
    expect(reply?.raw.properties).toMatchObject({ appId: 'payment', userId: 'payment' });
    expect(reply?.body).toMatchObject({ orderId: commanded });
    expect(event?.raw.properties).toMatchObject({
      type: 'AuthorizationAccepted',
      userId: 'payment',
    });
    const payments = await request(
      `${system.services.payment.url}/payments?orderId=${announced.orderId}`,
    );
    expect(payments.body).toEqual([expect.objectContaining({ status: 'AUTHORIZED' })]);
  });

  test.each([
    ['order.events', 'order.cancelled'],
    ['invoicing.commands', 'CreateInvoice'],
  ])(
    "when Payment's user publishes to %s, then the broker closes its channel with ACCESS_REFUSED",
    async (exchange, routingKey) => {
      const connection = await amqplib.connect(system.brokerUrls.payment);
      connection.on('error', () => undefined);
      const channel = await connection.createConfirmChannel();
      const closed = new Promise<string>((resolve) =>
        channel.on('error', (err: Error) => resolve(err.message)),
      );

      channel.publish(exchange, routingKey, Buffer.from('{}'), { userId: 'payment' });

      expect(await closed).toMatch(/ACCESS_REFUSED/);
      await connection.close().catch(() => undefined);
    },
  );
});
