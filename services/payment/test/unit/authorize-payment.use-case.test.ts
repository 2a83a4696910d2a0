import { randomUUID } from 'node:crypto';
import type { MessageIntent } from '@app/contracts';
import {
  authorizePayment,
  type AuthorizationRequest,
  type Payments,
} from '../../src/domain/authorize-payment.use-case';
import type { Payment } from '../../src/domain/payment';

/** Payments of one order in memory: the first decision stays, as the unique order id keeps it. */
class PaymentsOfOneOrder implements Payments {
  stored: Payment | undefined;
  said: MessageIntent[][] = [];

  async decideOnce(
    payment: Payment,
    answer: (payment: Payment, created: boolean) => MessageIntent[],
  ): Promise<'processed' | 'duplicate'> {
    const created = !this.stored;
    this.stored ??= payment;
    this.said.push(answer(this.stored, created));
    return created ? 'processed' : 'duplicate';
  }
}

const aRequest = (overrides: Partial<AuthorizationRequest> = {}): AuthorizationRequest => ({
  orderId: randomUUID(),
  amountCents: 2_500,
  currency: 'EUR',
  cardToken: 'tok_visa',
  ...overrides,
});

describe('authorizePayment', () => {
  test('when an order names no card, then it pays with tok_visa and is authorized', async () => {
    const payments = new PaymentsOfOneOrder();

    await authorizePayment(payments, aRequest({ cardToken: undefined }), 'event');

    expect(payments.stored).toMatchObject({ status: 'AUTHORIZED', amountCents: 2_500 });
  });

  test('when authorized in the event style, then AuthorizationAccepted is announced with the payment', async () => {
    const payments = new PaymentsOfOneOrder();
    const request = aRequest();

    await authorizePayment(payments, request, 'event');

    const payment = payments.stored;
    expect(payments.said).toEqual([
      [
        {
          type: 'AuthorizationAccepted',
          payload: {
            paymentId: payment?.id,
            orderId: request.orderId,
            amountCents: 2_500,
            currency: 'EUR',
            authorizedAt: payment?.createdAt.toISOString(),
          },
        },
      ],
    ]);
  });

  test('when declined in the event style, then AuthorizationDeclined is announced with the reason', async () => {
    const payments = new PaymentsOfOneOrder();

    await authorizePayment(payments, aRequest({ cardToken: 'tok_insufficient_funds' }), 'event');

    expect(payments.stored).toMatchObject({
      status: 'DECLINED',
      declineReason: 'insufficient_funds',
    });
    expect(payments.said[0]).toEqual([
      {
        type: 'AuthorizationDeclined',
        payload: expect.objectContaining({
          paymentId: payments.stored?.id,
          reason: 'insufficient_funds',
          declinedAt: payments.stored?.createdAt.toISOString(),
        }),
      },
    ]);
  });

  test.each([
    ['tok_visa', 'PaymentAuthorized'],
    ['tok_declined', 'PaymentDeclined'],
  ])('when %s pays in the command style, then %s is replied', async (cardToken, reply) => {
    const payments = new PaymentsOfOneOrder();

    await authorizePayment(payments, aRequest({ cardToken }), 'command');

    expect(payments.said[0]?.map((intent) => intent.type)).toEqual([reply]);
  });

  test('when the same order is asked again in the event style, then nothing more is announced', async () => {
    const payments = new PaymentsOfOneOrder();
    const request = aRequest();

    await authorizePayment(payments, request, 'event');
    const outcome = await authorizePayment(payments, request, 'event');

    expect(outcome).toBe('duplicate');
    expect(payments.said[1]).toEqual([]);
  });

  test('when the same order is commanded again with another card, then the first decision is replied again', async () => {
    const payments = new PaymentsOfOneOrder();
    const request = aRequest({ cardToken: 'tok_declined' });

    await authorizePayment(payments, request, 'command');
    await authorizePayment(payments, { ...request, cardToken: 'tok_visa' }, 'command');

    expect(payments.said[1]).toEqual([
      {
        type: 'PaymentDeclined',
        payload: expect.objectContaining({
          paymentId: payments.stored?.id,
          reason: 'card_declined',
        }),
      },
    ]);
  });
});
