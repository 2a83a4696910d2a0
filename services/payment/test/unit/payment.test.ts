import { AMOUNT_LIMIT_CENTS, decide } from '../../src/domain/payment';

describe('payment decision rules (DESIGN.md section 4a)', () => {
  test('when tok_visa pays an amount within the limit, then the payment is authorized', () => {
    expect(decide(2_500, 'tok_visa')).toEqual({ status: 'AUTHORIZED' });
  });

  test.each([
    ['tok_declined', 'card_declined'],
    ['tok_insufficient_funds', 'insufficient_funds'],
  ])('when %s pays, then the payment is declined with %s', (token, reason) => {
    expect(decide(2_500, token)).toEqual({ status: 'DECLINED', reason });
  });

  test.each([['tok_mastercard'], ['TOK_VISA'], ['tok_visa ']])(
    'when the unknown token %p pays, then the payment is declined as card_declined',
    (token) => {
      expect(decide(2_500, token)).toEqual({ status: 'DECLINED', reason: 'card_declined' });
    },
  );

  test.each([['constructor'], ['toString'], ['__proto__'], ['hasOwnProperty']])(
    'when the token names something of every JavaScript object (%p), then it is unknown, and declined',
    (token) => {
      expect(decide(2_500, token)).toEqual({ status: 'DECLINED', reason: 'card_declined' });
    },
  );

  test('when the amount is exactly the limit, then tok_visa is authorized', () => {
    expect(AMOUNT_LIMIT_CENTS).toBe(500_000);
    expect(decide(500_000, 'tok_visa')).toEqual({ status: 'AUTHORIZED' });
  });

  test.each([['tok_visa'], ['tok_declined'], ['tok_insufficient_funds'], ['tok_unknown']])(
    'when %s pays one cent over the limit, then the payment is declined as amount_over_limit',
    (token) => {
      expect(decide(500_001, token)).toEqual({ status: 'DECLINED', reason: 'amount_over_limit' });
    },
  );

  test('when the amount is zero, then tok_visa is authorized', () => {
    expect(decide(0, 'tok_visa')).toEqual({ status: 'AUTHORIZED' });
  });
});
