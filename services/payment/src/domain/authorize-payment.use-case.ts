import { randomUUID } from 'node:crypto';
import { say, type MessageIntent, type MessagingStyle } from '@app/contracts';
import { DEFAULT_CARD_TOKEN, decide, type Payment } from './payment';

export interface AuthorizationRequest {
  orderId: string;
  amountCents: number;
  currency: string;
  /** None means the default card (`tok_visa`). */
  cardToken?: string | undefined;
}

/** `duplicate` when the request was handled before and changed nothing now. */
export type Outcome = 'processed' | 'duplicate';

/** The payments, as the request being handled sees them (see PaymentRepository.for). */
export interface Payments {
  /**
   * Stores `payment` unless its order has one already, with the messages `answer` decides
   * on, in one transaction and at most once per request. `answer` hears whether this
   * payment was decided now or an earlier decision is answered again.
   */
  decideOnce(
    payment: Payment,
    answer: (payment: Payment, created: boolean) => MessageIntent[],
  ): Promise<Outcome>;
}

/** The payments, as a batch of requests handled together sees them (see PaymentRepository.forBatch). */
export interface PaymentBatch {
  /** `decideOnce` for each payment, the i-th for the batch's i-th request, in one transaction where it can. */
  decideEachOnce(
    payments: Payment[],
    answer: (payment: Payment, created: boolean) => MessageIntent[],
  ): Promise<Outcome[]>;
}

/**
 * Decides on the payment of an order, once per order however often the request arrives,
 * and answers in the same transaction. Event style: announce AuthorizationAccepted or
 * AuthorizationDeclined to whoever subscribed, once. Command style: reply PaymentAuthorized
 * or PaymentDeclined to the sender, again with the first decision if the command is
 * repeated, so a sender that asks twice still hears back, and never a second decision.
 */
export function authorizePayment(
  payments: Payments,
  request: AuthorizationRequest,
  style: MessagingStyle,
): Promise<Outcome> {
  return payments.decideOnce(paymentFor(request), answerIn(style));
}

/** `authorizePayment` for several requests at once (a batch of deliveries): outcomes in their order. */
export function authorizePayments(
  payments: PaymentBatch,
  requests: AuthorizationRequest[],
  style: MessagingStyle,
): Promise<Outcome[]> {
  return payments.decideEachOnce(requests.map(paymentFor), answerIn(style));
}

function paymentFor(request: AuthorizationRequest): Payment {
  const decision = decide(request.amountCents, request.cardToken ?? DEFAULT_CARD_TOKEN);
  const facts = {
    id: randomUUID(),
    orderId: request.orderId,
    amountCents: request.amountCents,
    currency: request.currency,
    createdAt: new Date(),
  };
  return decision.status === 'AUTHORIZED'
    ? { ...facts, status: 'AUTHORIZED' }
    : { ...facts, status: 'DECLINED', declineReason: decision.reason };
}

function answerIn(style: MessagingStyle) {
  return (decided: Payment, created: boolean): MessageIntent[] => {
    if (style === 'event' && !created) return [];
    return [answerOf(decided, style)];
  };
}

function answerOf(payment: Payment, style: MessagingStyle): MessageIntent {
  const at = payment.createdAt.toISOString();
  if (payment.status === 'AUTHORIZED') {
    const authorized = {
      paymentId: payment.id,
      orderId: payment.orderId,
      amountCents: payment.amountCents,
      currency: payment.currency,
      authorizedAt: at,
    };
    return style === 'command'
      ? say('PaymentAuthorized', authorized)
      : say('AuthorizationAccepted', authorized);
  }
  const declined = {
    paymentId: payment.id,
    orderId: payment.orderId,
    reason: payment.declineReason,
    declinedAt: at,
  };
  return style === 'command'
    ? say('PaymentDeclined', declined)
    : say('AuthorizationDeclined', declined);
}
