import type { DeclineReason } from '@app/contracts';

/** The one authorization decision of an order. */
export type Payment = {
  id: string;
  orderId: string;
  amountCents: number;
  currency: string;
  createdAt: Date;
} & ({ status: 'AUTHORIZED' } | { status: 'DECLINED'; declineReason: DeclineReason });

export type Decision = { status: 'AUTHORIZED' } | { status: 'DECLINED'; reason: DeclineReason };

/** An order that names no card pays with this one (DESIGN.md section 4a). */
export const DEFAULT_CARD_TOKEN = 'tok_visa';

/** Above this, every payment is declined, whatever the card. */
export const AMOUNT_LIMIT_CENTS = 500_000;

// Test tokens, never card numbers. A Map, not an object literal: a token such as
// "constructor" must not find something on Object.prototype.
const TOKENS = new Map<string, Decision>([
  ['tok_visa', { status: 'AUTHORIZED' }],
  ['tok_declined', { status: 'DECLINED', reason: 'card_declined' }],
  ['tok_insufficient_funds', { status: 'DECLINED', reason: 'insufficient_funds' }],
]);

/**
 * The card gateway of this reference system. The limit is checked first: it is this
 * shop's own rule and needs no card. A token the gateway does not know is declined as
 * `card_declined`, as a real gateway would, rather than failing the message.
 */
export function decide(amountCents: number, cardToken: string): Decision {
  if (amountCents > AMOUNT_LIMIT_CENTS) return { status: 'DECLINED', reason: 'amount_over_limit' };
  return TOKENS.get(cardToken) ?? { status: 'DECLINED', reason: 'card_declined' };
}
