import { randomUUID } from 'node:crypto';
import type { NewOrder } from '@app/contracts';
import {
  aNewOrder,
  request,
  startServiceUnderTest,
  waitFor,
  type ReceivedMessage,
  type ServiceUnderTest,
  type Spy,
  type TestBroker,
  type TestDatabase,
} from '@app/testing';
import { readConfig } from '../../src/config';
import { start, type RunningPaymentService } from '../../src/main';
import { consumedCount, outgoingFor, paymentsOf } from './support';

const QUEUE = 'payment.new-order';

/** A NewOrder paid with `cardToken` (none: the order names no card). */
const aNewOrderPaidWith = (cardToken?: string, overrides: Partial<NewOrder> = {}): NewOrder =>
  aNewOrder({ ...(cardToken ? { payment: { cardToken } } : {}), ...overrides });

describe('payment: NewOrder handler against a real broker and database', () => {
  let sut: ServiceUnderTest<RunningPaymentService>;
  let db: TestDatabase;
  let broker: TestBroker;
  let events: Spy;
  let url: string;

  beforeAll(async () => {
    sut = await startServiceUnderTest('payment', 'payment-events', (env) => start(readConfig(env)));
    ({ db, broker, url } = sut);
    events = await broker.spy('payment.events', '#');
  });

  afterAll(async () => {
    await sut?.teardown();
  });

  const isFor = (orderId: string) => (m: ReceivedMessage) =>
    (m.body as { orderId: string }).orderId === orderId;
  const paymentCount = async () =>
    Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM payments'))[0]?.n);

  test('when a NewOrder without payment details arrives, then it pays with tok_visa: one payment AUTHORIZED and AuthorizationAccepted published, caused by it', async () => {
    const order = aNewOrderPaidWith();

    const messageId = await broker.publishMessage('NewOrder', order);

    const [event] = await events.waitForCount(1, isFor(order.orderId));
    const [payment] = await paymentsOf(db, order.orderId);
    expect(event?.body).toEqual({
      paymentId: payment?.id,
      orderId: order.orderId,
      amountCents: order.totalCents,
      currency: 'EUR',
      authorizedAt: expect.any(String),
    });
    expect(event?.raw.properties).toMatchObject({
      type: 'AuthorizationAccepted',
      appId: 'payment',
      correlationId: order.orderId,
      contentType: 'application/json',
      deliveryMode: 2,
    });
    expect(event?.raw.fields.routingKey).toBe('authorization.accepted');
    expect(event?.raw.properties.headers?.['x-causation-id']).toBe(messageId);
    expect(payment).toMatchObject({ status: 'AUTHORIZED', decline_reason: null });

    const listed = await request(`${url}/payments?orderId=${order.orderId}`);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([
      {
        id: payment?.id,
        orderId: order.orderId,
        amountCents: order.totalCents,
        currency: 'EUR',
        status: 'AUTHORIZED',
        createdAt: (event?.body as { authorizedAt: string }).authorizedAt,
      },
    ]);
    const one = await request(`${url}/payments/${payment?.id}`);
    expect(one.body).toEqual((listed.body as unknown[])[0]);
  });

  test.each([
    ['tok_visa', 2_500, 'AUTHORIZED'],
    ['tok_visa', 500_000, 'AUTHORIZED'],
    ['tok_declined', 2_500, 'card_declined'],
    ['tok_insufficient_funds', 2_500, 'insufficient_funds'],
    ['tok_visa', 500_001, 'amount_over_limit'],
    ['tok_no_such_card', 2_500, 'card_declined'],
  ])(
    'when a NewOrder paid with %s for %p cents arrives, then the payment is decided %s and announced once',
    async (cardToken, totalCents, decision) => {
      const order = aNewOrderPaidWith(cardToken, { totalCents });

      await broker.publishMessage('NewOrder', order);

      const [event] = await events.waitForCount(1, isFor(order.orderId));
      const [payment] = await paymentsOf(db, order.orderId);
      if (decision === 'AUTHORIZED') {
        expect(event?.raw.properties.type).toBe('AuthorizationAccepted');
        expect(payment).toMatchObject({ status: 'AUTHORIZED', decline_reason: null });
      } else {
        expect(event?.raw.properties.type).toBe('AuthorizationDeclined');
        expect(event?.raw.fields.routingKey).toBe('authorization.declined');
        expect(event?.body).toEqual({
          paymentId: payment?.id,
          orderId: order.orderId,
          reason: decision,
          declinedAt: expect.any(String),
        });
        expect(payment).toMatchObject({ status: 'DECLINED', decline_reason: decision });
        const shown = await request(`${url}/payments/${payment?.id}`);
        expect(shown.body).toEqual({
          id: payment?.id,
          orderId: order.orderId,
          amountCents: totalCents,
          currency: 'EUR',
          status: 'DECLINED',
          declineReason: decision,
          createdAt: (event?.body as { declinedAt: string }).declinedAt,
        });
      }
      expect((await outgoingFor(db, order.orderId)).map((m) => m.type)).toEqual([
        event?.raw.properties.type,
      ]);
    },
  );

  test('when the same NewOrder message is delivered twice, then one payment exists and one event was ever written', async () => {
    const order = aNewOrderPaidWith('tok_declined');
    const messageId = randomUUID();
    const duplicatesBefore = await consumedCount(url, QUEUE, 'NewOrder', 'duplicate');

    await broker.publishMessage('NewOrder', order, { messageId });
    await broker.publishMessage('NewOrder', order, { messageId });

    await waitFor(
      'the second delivery to be recognised as a duplicate',
      async () =>
        (await consumedCount(url, QUEUE, 'NewOrder', 'duplicate')) === duplicatesBefore + 1,
    );
    expect(await paymentsOf(db, order.orderId)).toHaveLength(1);
    expect((await outgoingFor(db, order.orderId)).map((m) => m.type)).toEqual([
      'AuthorizationDeclined',
    ]);
    await events.waitForCount(1, isFor(order.orderId));
  });

  test('when two different NewOrder messages name the same order, then both are recorded, one payment exists and one event was written', async () => {
    const order = aNewOrderPaidWith('tok_visa');

    const first = await broker.publishMessage('NewOrder', order);
    const second = await broker.publishMessage('NewOrder', order);

    await waitFor('both messages in the inbox', async () => {
      const rows = await db.query(
        'SELECT 1 FROM inbox_messages WHERE message_id = ANY($1::uuid[])',
        [[first, second]],
      );
      return rows.length === 2;
    });
    expect(await paymentsOf(db, order.orderId)).toHaveLength(1);
    expect((await outgoingFor(db, order.orderId)).map((m) => m.type)).toEqual([
      'AuthorizationAccepted',
    ]);
  });

  test.each([
    ['invalid JSON', Buffer.from('{"orderId": '), {}, 'body is not valid JSON'],
    [
      'a payload of the wrong shape',
      Buffer.from(JSON.stringify({ orderId: 'not-a-uuid', items: [] })),
      {},
      'invalid NewOrder payload',
    ],
    [
      'an empty card token',
      Buffer.from(JSON.stringify(aNewOrderPaidWith('tok_visa', { payment: { cardToken: '' } }))),
      {},
      'payment.cardToken',
    ],
    [
      'a card token over 64 characters',
      Buffer.from(JSON.stringify(aNewOrderPaidWith(`tok_${'x'.repeat(61)}`))),
      {},
      'payment.cardToken',
    ],
    ['an unknown type', Buffer.from('{}'), { type: 'OrderExploded' }, 'unknown message type'],
    [
      'a sender other than order',
      Buffer.from(JSON.stringify(aNewOrder())),
      { appId: 'shipping' },
      'NewOrder may not be sent by shipping',
    ],
    [
      'no userId, so the broker did not vouch for its sender',
      Buffer.from(JSON.stringify(aNewOrder())),
      { userId: undefined },
      'its sender cannot be verified',
    ],
    [
      'no message id',
      Buffer.from(JSON.stringify(aNewOrder())),
      { messageId: undefined },
      'invalid envelope',
    ],
  ])(
    'when a poison message with %s arrives, then it is parked in .dead with the reason, decides nothing, and the next good one is processed',
    async (_case, body, overrides, error) => {
      const paymentsBefore = await paymentCount();
      await broker.publishRaw('order.events', 'order.new', body, {
        contentType: 'application/json',
        persistent: true,
        type: 'NewOrder',
        appId: 'order',
        userId: broker.user,
        timestamp: Math.floor(Date.now() / 1000),
        correlationId: randomUUID(),
        messageId: randomUUID(),
        ...overrides,
      });
      const good = aNewOrderPaidWith();
      await broker.publishMessage('NewOrder', good);

      await events.waitForCount(1, isFor(good.orderId));
      const parked = await waitFor('the poison message to be parked', async () => {
        const messages = await broker.drain(`${QUEUE}.dead`);
        return messages.length > 0 ? messages : undefined;
      });
      expect(parked).toHaveLength(1);
      expect(parked[0]?.raw.properties.headers).toMatchObject({
        'x-dead-reason': 'invalid',
        'x-dead-queue': QUEUE,
      });
      expect(String(parked[0]?.raw.properties.headers?.['x-last-error'])).toContain(error);
      expect(await paymentCount()).toBe(paymentsBefore + 1);
    },
  );

  test('when payments are asked for with a malformed order id, then the answer is 400 problem+json naming the field', async () => {
    const response = await request(`${url}/payments?orderId=nope`);

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body.errors).toEqual([expect.objectContaining({ field: 'query.orderId' })]);
  });

  test.each([[randomUUID()], ['not-a-uuid']])(
    'when the unknown payment %s is asked for, then the answer is 404 problem+json',
    async (id) => {
      const response = await request(`${url}/payments/${id}`);

      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body.code).toBe('PAYMENT.NOT_FOUND');
    },
  );
});
