import {
  PAYMENT_CASES,
  aftermathOf,
  compensationSummary,
  expectedFinal,
  expectedPaymentTrail,
  finalProblems,
  finalStateTable,
  statusOfRows,
  type FinalState,
  type PaymentCase,
} from '../../src/scenarios/payment.scenario';
import { expectedSteps } from '../../src/trail';

const [eventVisa, eventDeclined, commandVisa, commandDeclined] = PAYMENT_CASES as [
  PaymentCase,
  PaymentCase,
  PaymentCase,
  PaymentCase,
];

describe('payment: what DESIGN 4a says each order ends as', () => {
  test('when the payment authorizes, then both styles complete with an issued invoice and a prepared shipment', () => {
    const completed = {
      order: 'COMPLETED',
      payment: 'AUTHORIZED',
      invoice: 'ISSUED',
      shipment: 'PREPARED',
    };
    expect(expectedFinal(eventVisa)).toEqual(completed);
    expect(expectedFinal(commandVisa)).toEqual(completed);
  });

  test('when an event-style payment is declined, then the invoice is voided and the shipment cancelled', () => {
    expect(expectedFinal(eventDeclined)).toEqual({
      order: 'CANCELLED',
      cancellationReason: 'card_declined',
      payment: 'DECLINED',
      declineReason: 'card_declined',
      invoice: 'VOIDED',
      shipment: 'CANCELLED',
    });
  });

  test('when a command-style payment is declined, then no invoice and no shipment exist', () => {
    expect(expectedFinal(commandDeclined)).toMatchObject({
      order: 'CANCELLED',
      invoice: 'none',
      shipment: 'none',
    });
  });

  test('when the actual state differs, then each differing field is named with both values', () => {
    const actual: FinalState = { ...expectedFinal(eventDeclined), invoice: 'ISSUED' };
    delete actual.cancellationReason;
    expect(finalProblems(expectedFinal(eventDeclined), actual)).toEqual([
      'cancellationReason (none), expected card_declined',
      'invoice ISSUED, expected VOIDED',
    ]);
    expect(finalProblems(expectedFinal(eventVisa), expectedFinal(eventVisa))).toEqual([]);
  });

  test('when a service lists no rows, one row or several, then the status says none, its status, or all of them', () => {
    expect(statusOfRows([])).toBe('none');
    expect(statusOfRows([{ status: 'VOIDED' }])).toBe('VOIDED');
    expect(statusOfRows([{ status: 'ISSUED' }, { status: 'VOIDED' }])).toBe(
      '2 rows: ISSUED, VOIDED',
    );
  });
});

describe('payment: the trails each case must show', () => {
  test('when an event-style payment is declined, then OrderCancelled reaches the three compensating queues', () => {
    const trail = expectedPaymentTrail(eventDeclined);
    expect(trail.map((step) => step.type)).toEqual([
      'NewOrder',
      'AuthorizationDeclined',
      'InvoiceIssued',
      'ShipmentPrepared',
      'OrderCancelled',
    ]);
    expect(trail.at(-1)).toEqual({
      type: 'OrderCancelled',
      exchange: 'order.events',
      queues: [
        'invoicing.order-cancelled',
        'shipping.order-cancelled',
        'statistics.order-cancelled',
      ],
    });
  });

  test('when a command-style payment is declined, then the trail ends with the decline: no CreateInvoice, no ShipOrder', () => {
    expect(expectedPaymentTrail(commandDeclined)).toEqual(
      expectedSteps(['AuthorizePayment', 'PaymentDeclined']),
    );
  });

  test('when authorized, then the trail is the two-styles trail of its style', () => {
    expect(expectedPaymentTrail(commandVisa).map((step) => step.type)).toEqual([
      'AuthorizePayment',
      'PaymentAuthorized',
      'CreateInvoice',
      'ShipOrder',
      'InvoiceCreated',
      'ShipmentCreated',
    ]);
    expect(expectedPaymentTrail(eventVisa)[1]?.type).toBe('AuthorizationAccepted');
  });
});

describe('payment: which style needed compensation', () => {
  const rows = PAYMENT_CASES.map((c) => ({
    case: c,
    id: `${c.style}-${c.cardToken}-id`,
    state: expectedFinal(c),
  }));

  test('when each order ended as the design says, then the event style compensated and the command style had nothing to undo', () => {
    expect(rows.map((row) => aftermathOf(row.state))).toEqual([
      'not cancelled',
      'compensated',
      'not cancelled',
      'nothing created',
    ]);
    const [event, command] = compensationSummary(rows);
    expect(event).toMatch(/^event style needed compensation: invoice VOIDED, shipment CANCELLED/);
    expect(command).toMatch(/^command style needed no compensation: no invoice and no shipment/);
  });

  test('when a cancelled order still has an issued invoice, then it is reported as left live', () => {
    expect(aftermathOf({ ...expectedFinal(eventDeclined), invoice: 'ISSUED' })).toBe('left live');
  });

  test('when the final states are tabled, then each order is one row with its reasons beside its statuses', () => {
    const lines = finalStateTable(rows).split('\n');
    expect(lines[0]).toMatch(/^style +card +order +order status +payment +invoice +shipment$/);
    expect(lines).toHaveLength(6);
    expect(lines[3]).toMatch(
      /^event +tok_declined +event-to +CANCELLED \(card_declined\) +DECLINED \(card_declined\) +VOIDED +CANCELLED$/,
    );
    expect(lines[5]).toMatch(/^command +tok_declined .* none +none$/);
  });
});
