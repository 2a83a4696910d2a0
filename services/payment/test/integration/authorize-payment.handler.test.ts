import { randomUUID } from 'node:crypto';
import type { AuthorizePayment } from '@app/contracts';
import {
  startServiceUnderTest,
  waitFor,
  type ReceivedMessage,
  type ServiceUnderTest,
  type Spy,
} from '@app/testing';
import { readConfig } from '../../src/config';
import { start, type RunningPaymentService } from '../../src/main';
import { consumedCount, outgoingFor, paymentsOf } from './support';

const QUEUE = 'payment.authorize-payment';

const anAuthorizePayment = (overrides: Partial<AuthorizePayment> = {}): AuthorizePayment => ({
  orderId: randomUUID(),
  customerId: `customer-${randomUUID().slice(0, 8)}`,
  amountCents: 2_500,
  currency: 'EUR',
  cardToken: 'tok_visa',
  ...overrides,
});

describe('payment: AuthorizePayment command handler against a real broker and database', () => {
  let sut: ServiceUnderTest<RunningPaymentService>;
  let authorized: Spy;
  let declined: Spy;
  let events: Spy;

  beforeAll(async () => {
    sut = await startServiceUnderTest('payment', 'payment-commands', (env) =>
      start(readConfig(env)),
    );
    authorized = await sut.broker.spy('order.replies', 'PaymentAuthorized');
    declined = await sut.broker.spy('order.replies', 'PaymentDeclined');
    events = await sut.broker.spy('payment.events', '#');
  });

  afterAll(async () => {
    await sut?.teardown();
  });

  const isFor = (orderId: string) => (m: ReceivedMessage) =>
    (m.body as { orderId: string }).orderId === orderId;
  const repliesFor = (orderId: string) =>
    [...authorized.messages, ...declined.messages].filter(isFor(orderId));
  const command = (payload: AuthorizePayment | Record<string, unknown>, messageId?: string) =>
    sut.broker.publishMessage('AuthorizePayment', payload, {
      replyTo: 'order.replies',
      ...(messageId ? { messageId } : {}),
    });
  const parkedCommands = (what: string) =>
    waitFor(`${what} to be parked`, async () => {
      const messages = await sut.broker.drain(`${QUEUE}.dead`);
      return messages.length > 0 ? messages : undefined;
    });

  test('when AuthorizePayment with tok_visa arrives, then one payment is AUTHORIZED and PaymentAuthorized is replied to order.replies, with no event', async () => {
    const request = anAuthorizePayment();

    const messageId = await command(request);

    const [reply] = await authorized.waitForCount(1, isFor(request.orderId));
    const [payment] = await paymentsOf(sut.db, request.orderId);
    expect(payment).toMatchObject({ status: 'AUTHORIZED', decline_reason: null });
    expect(reply?.body).toEqual({
      paymentId: payment?.id,
      orderId: request.orderId,
      amountCents: 2_500,
      currency: 'EUR',
      authorizedAt: expect.any(String),
    });
    expect(reply?.raw.properties).toMatchObject({
      type: 'PaymentAuthorized',
      appId: 'payment',
      correlationId: request.orderId,
    });
    expect(reply?.raw.properties.headers?.['x-causation-id']).toBe(messageId);
    expect((await outgoingFor(sut.db, request.orderId)).map((m) => m.type)).toEqual([
      'PaymentAuthorized',
    ]);
    expect(events.messages.filter(isFor(request.orderId))).toHaveLength(0);
  });

  test.each([
    ['tok_declined', 2_500, 'card_declined'],
    ['tok_insufficient_funds', 2_500, 'insufficient_funds'],
    ['tok_visa', 500_001, 'amount_over_limit'],
    ['tok_no_such_card', 2_500, 'card_declined'],
  ])(
    'when AuthorizePayment with %s for %p cents arrives, then the payment is DECLINED and PaymentDeclined replied with %s',
    async (cardToken, amountCents, reason) => {
      const request = anAuthorizePayment({ cardToken, amountCents });

      await command(request);

      const [reply] = await declined.waitForCount(1, isFor(request.orderId));
      const [payment] = await paymentsOf(sut.db, request.orderId);
      expect(payment).toMatchObject({ status: 'DECLINED', decline_reason: reason });
      expect(reply?.body).toEqual({
        paymentId: payment?.id,
        orderId: request.orderId,
        reason,
        declinedAt: expect.any(String),
      });
      expect(reply?.raw.properties.type).toBe('PaymentDeclined');
      expect(authorized.messages.filter(isFor(request.orderId))).toHaveLength(0);
    },
  );

  test('when the order is commanded again under a new message id, even with another card, then the first decision is replied again and no second payment is made', async () => {
    const request = anAuthorizePayment({ cardToken: 'tok_declined' });

    await command(request);
    await declined.waitForCount(1, isFor(request.orderId));
    await command({ ...request, cardToken: 'tok_visa' });

    const answers = await declined.waitForCount(2, isFor(request.orderId));
    const payments = await paymentsOf(sut.db, request.orderId);
    expect(payments).toEqual([
      expect.objectContaining({ status: 'DECLINED', decline_reason: 'card_declined' }),
    ]);
    expect(answers.map((m) => m.body)).toEqual([answers[0]?.body, answers[0]?.body]);
    expect((answers[0]?.body as { paymentId: string }).paymentId).toBe(payments[0]?.id);
    expect((await outgoingFor(sut.db, request.orderId)).map((m) => m.type)).toEqual([
      'PaymentDeclined',
      'PaymentDeclined',
    ]);
    expect(authorized.messages.filter(isFor(request.orderId))).toHaveLength(0);
  });

  test('when the same AuthorizePayment message is delivered twice, then it is decided and answered once', async () => {
    const request = anAuthorizePayment();
    const messageId = randomUUID();
    const duplicatesBefore = await consumedCount(sut.url, QUEUE, 'AuthorizePayment', 'duplicate');

    await command(request, messageId);
    await command(request, messageId);

    await waitFor(
      'the second delivery to be recognised as a duplicate',
      async () =>
        (await consumedCount(sut.url, QUEUE, 'AuthorizePayment', 'duplicate')) ===
        duplicatesBefore + 1,
    );
    expect(await paymentsOf(sut.db, request.orderId)).toHaveLength(1);
    expect((await outgoingFor(sut.db, request.orderId)).map((m) => m.type)).toEqual([
      'PaymentAuthorized',
    ]);
    await authorized.waitForCount(1, isFor(request.orderId));
    expect(repliesFor(request.orderId)).toHaveLength(1);
  });

  test.each([
    ['no replyTo', {}, 'must carry replyTo order.replies, not none'],
    ['a replyTo other than order.replies', { replyTo: 'payment.events' }, 'not "payment.events"'],
    [
      'a sender other than order',
      { replyTo: 'order.replies', appId: 'invoicing' },
      'AuthorizePayment may not be sent by invoicing',
    ],
    [
      'no userId, so the broker did not vouch for its sender',
      { replyTo: 'order.replies', userId: undefined },
      'its sender cannot be verified',
    ],
  ])(
    'when an AuthorizePayment with %s arrives, then it is parked unprocessed and the service keeps working',
    async (_case, overrides, reason) => {
      const bad = anAuthorizePayment();
      const good = anAuthorizePayment();

      await sut.broker.publishMessage('AuthorizePayment', bad, overrides);
      await command(good);

      await authorized.waitForCount(1, isFor(good.orderId));
      const parked = await parkedCommands('the bad command');
      expect(parked[0]?.raw.properties.headers).toMatchObject({
        'x-dead-reason': 'invalid',
        'x-dead-queue': QUEUE,
      });
      expect(String(parked[0]?.raw.properties.headers?.['x-last-error'])).toContain(reason);
      expect(await paymentsOf(sut.db, bad.orderId)).toHaveLength(0);
      expect(repliesFor(bad.orderId)).toHaveLength(0);
    },
  );

  test.each([
    ['a negative amount', { amountCents: -1 }, 'amountCents'],
    ['an empty card token', { cardToken: '' }, 'cardToken'],
    ['a card token over 64 characters', { cardToken: `tok_${'x'.repeat(61)}` }, 'cardToken'],
    ['no card token', { cardToken: undefined }, 'cardToken'],
    ['a lower-case currency', { currency: 'eur' }, 'currency'],
  ])(
    'when a malformed AuthorizePayment with %s arrives, then it is parked in payment.commands.dead and never half-processed',
    async (_case, corruption, field) => {
      const bad = { ...anAuthorizePayment(), ...corruption };
      const good = anAuthorizePayment();

      await command(bad);
      await command(good);

      await authorized.waitForCount(1, isFor(good.orderId));
      const parked = await parkedCommands('the malformed command');
      expect(String(parked[0]?.raw.properties.headers?.['x-last-error'])).toMatch(
        new RegExp(`invalid AuthorizePayment payload: ${field}`),
      );
      expect(await paymentsOf(sut.db, bad.orderId)).toHaveLength(0);
      const inbox = await sut.db.query('SELECT 1 FROM inbox_messages WHERE message_id = $1', [
        parked[0]?.raw.properties.messageId,
      ]);
      expect(inbox).toHaveLength(0);
    },
  );
});
