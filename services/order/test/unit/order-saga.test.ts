import { randomUUID } from 'node:crypto';
import type { Order, OrderStatus } from '../../src/domain/order';
import { transition, type OrderEvent } from '../../src/domain/order-saga';

const anOrder = (overrides: Partial<Order> = {}): Order => ({
  id: randomUUID(),
  status: 'PLACED',
  style: 'event',
  customerId: 'c-1',
  items: [{ sku: 'SKU-1', quantity: 2, unitPriceCents: 500 }],
  totalCents: 1_000,
  currency: 'EUR',
  shippingAddress: { name: 'A', street: 'S 1', city: 'C', postalCode: '1', country: 'DE' },
  createdAt: new Date(),
  updatedAt: new Date(),
  ...overrides,
});

const authorized: OrderEvent = { kind: 'payment-authorized', paymentId: randomUUID() };
const declined: OrderEvent = { kind: 'payment-declined', reason: 'card_declined' };
const invoiced: OrderEvent = { kind: 'invoice-known', invoiceId: randomUUID() };
const shipped: OrderEvent = { kind: 'shipment-known', shipmentId: randomUUID() };

describe('order saga: command style (orchestration)', () => {
  test('when the payment is authorized, then Order sends CreateInvoice and ShipOrder and nothing before', () => {
    const order = anOrder({ style: 'command' });

    const next = transition(order, authorized);

    expect(next).not.toBe('ignored');
    if (next === 'ignored') return;
    expect(next.change.status).toBe('AUTHORIZED');
    expect(next.say.map((m) => m.type)).toEqual(['CreateInvoice', 'ShipOrder']);
    expect(next.say.every((m) => m.replyTo === 'order.replies')).toBe(true);
  });

  test('when the authorization arrives again under a new id, then no second pair of commands is sent', () => {
    const order = anOrder({ style: 'command', status: 'AUTHORIZED', paymentId: randomUUID() });

    const next = transition(order, { kind: 'payment-authorized', paymentId: randomUUID() });

    expect(next !== 'ignored' && next.say).toEqual([]);
    expect(next !== 'ignored' && next.change.paymentId).toBe(order.paymentId);
  });

  test('when the payment is declined, then the order is CANCELLED and nothing needs compensating', () => {
    const next = transition(anOrder({ style: 'command' }), declined);

    expect(next).toEqual({
      change: { status: 'CANCELLED', cancellationReason: 'card_declined' },
      say: [],
    });
  });
});

describe('order saga: event style (choreography)', () => {
  test('when the payment is declined, then the order is CANCELLED and OrderCancelled is announced', () => {
    const order = anOrder({ status: 'INVOICED', invoiceId: randomUUID() });

    const next = transition(order, declined);

    expect(next !== 'ignored' && next.change.status).toBe('CANCELLED');
    expect(next !== 'ignored' && next.say).toEqual([
      {
        type: 'OrderCancelled',
        payload: { orderId: order.id, reason: 'card_declined', cancelledAt: expect.any(String) },
      },
    ]);
  });

  test('when the authorization is accepted, then no command is sent (the others acted on NewOrder)', () => {
    const next = transition(anOrder(), authorized);

    expect(next !== 'ignored' && next.say).toEqual([]);
  });

  test.each<[string, OrderEvent[], OrderStatus]>([
    ['payment, invoice, shipment', [authorized, invoiced, shipped], 'COMPLETED'],
    ['invoice, shipment, payment', [invoiced, shipped, authorized], 'COMPLETED'],
    ['invoice and shipment only', [invoiced, shipped], 'AWAITING_PAYMENT'],
    ['invoice, then decline', [invoiced, declined], 'CANCELLED'],
  ])('when %s arrive, then the order ends %s', (_situation, events, expected) => {
    let order = anOrder();
    for (const event of events) {
      const next = transition(order, event);
      if (next !== 'ignored') order = { ...order, ...next.change };
    }

    expect(order.status).toBe(expected);
  });
});

describe('order saga: terminal states are never left', () => {
  test.each<[OrderStatus, OrderEvent]>([
    ['CANCELLED', invoiced],
    ['CANCELLED', authorized],
    ['CANCELLED', declined],
    ['FAILED', shipped],
    ['COMPLETED', declined],
    ['COMPLETED', invoiced],
  ])('when a %s order hears %j, then it is ignored', (status, event) => {
    expect(transition(anOrder({ status }), event)).toBe('ignored');
  });
});
