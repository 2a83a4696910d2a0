import { randomUUID } from 'node:crypto';
import type { LineItem } from '@app/contracts';
import { statusAfterOutcome, totalOf, type OrderStatus } from '../../src/domain/order';

const anItem = (overrides: Partial<LineItem> = {}): LineItem => ({
  sku: 'SKU-BOOK-1',
  quantity: 1,
  unitPriceCents: 100,
  ...overrides,
});

describe('order: total', () => {
  test('when an order has several items, then its total is the sum of quantity times unit price', () => {
    const items = [
      anItem({ quantity: 2, unitPriceCents: 1_250 }),
      anItem({ sku: 'SKU-PEN-7', quantity: 1, unitPriceCents: 399 }),
      anItem({ sku: 'SKU-INK-3', quantity: 10, unitPriceCents: 5 }),
    ];

    const total = totalOf(items);

    expect(total).toBe(2 * 1_250 + 399 + 10 * 5);
  });

  test('when an item is free, then it adds nothing to the total', () => {
    const total = totalOf([
      anItem({ quantity: 3, unitPriceCents: 0 }),
      anItem({ quantity: 1, unitPriceCents: 700 }),
    ]);

    expect(total).toBe(700);
  });

  test('when there are no items, then the total is zero', () => {
    expect(totalOf([])).toBe(0);
  });

  test('when the items add up beyond 32 bits, then the exact total is returned for the caller to refuse', () => {
    const total = totalOf([anItem({ quantity: 10_000, unitPriceCents: 2_147_483_647 })]);

    expect(total).toBe(21_474_836_470_000);
  });
});

describe('order: status after an outcome', () => {
  const invoiceId = randomUUID();
  const shipmentId = randomUUID();
  const paymentId = randomUUID();

  test.each<
    [
      string,
      OrderStatus,
      OrderStatus,
      { paymentId?: string; invoiceId?: string; shipmentId?: string },
    ]
  >([
    ['a placed order has neither invoice nor shipment', 'PLACED', 'PLACED', {}],
    ['a placed order gets its invoice', 'INVOICED', 'PLACED', { invoiceId }],
    ['a placed order gets its shipment', 'SHIPPED', 'PLACED', { shipmentId }],
    [
      'a placed order gets both before its payment',
      'AWAITING_PAYMENT',
      'PLACED',
      { invoiceId, shipmentId },
    ],
    ['a placed order gets its payment', 'AUTHORIZED', 'PLACED', { paymentId }],
    [
      'a paid order gets both at once',
      'COMPLETED',
      'AUTHORIZED',
      { paymentId, invoiceId, shipmentId },
    ],
    [
      'an invoiced order gets its shipment and has its payment',
      'COMPLETED',
      'INVOICED',
      { paymentId, invoiceId, shipmentId },
    ],
    [
      'an invoiced order gets its shipment before its payment',
      'AWAITING_PAYMENT',
      'INVOICED',
      { invoiceId, shipmentId },
    ],
    [
      'an order awaiting payment gets it',
      'COMPLETED',
      'AWAITING_PAYMENT',
      { paymentId, invoiceId, shipmentId },
    ],
    ['a cancelled order gets its invoice', 'CANCELLED', 'CANCELLED', { invoiceId }],
    ['an invoiced order gets its invoice again', 'INVOICED', 'INVOICED', { invoiceId }],
    [
      'a shipped order gets its invoice',
      'COMPLETED',
      'SHIPPED',
      { paymentId, invoiceId, shipmentId },
    ],
    ['a shipped order gets its shipment again', 'SHIPPED', 'SHIPPED', { shipmentId }],
    [
      'a completed order gets an outcome again',
      'COMPLETED',
      'COMPLETED',
      { paymentId, invoiceId, shipmentId },
    ],
    ['a failed order gets its invoice', 'FAILED', 'FAILED', { invoiceId }],
    ['a failed order gets its shipment', 'FAILED', 'FAILED', { shipmentId }],
    ['a failed order gets both', 'FAILED', 'FAILED', { invoiceId, shipmentId }],
    ['a failed order has neither', 'FAILED', 'FAILED', {}],
  ])('when %s, then the order is %s', (_situation, expected, status, known) => {
    const next = statusAfterOutcome({ status, ...known });

    expect(next).toBe(expected);
  });
});
