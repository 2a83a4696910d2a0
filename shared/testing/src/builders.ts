import { randomUUID } from 'node:crypto';
import type { LineItem, NewOrder, ShippingAddress } from '@app/contracts';

export const anAddress = (overrides: Partial<ShippingAddress> = {}): ShippingAddress => ({
  name: 'Ada Lovelace',
  street: '12 St James Square',
  city: 'London',
  postalCode: 'SW1Y 4JH',
  country: 'GB',
  ...overrides,
});

export const anItem = (overrides: Partial<LineItem> = {}): LineItem => ({
  sku: 'SKU-BOOK-1',
  quantity: 2,
  unitPriceCents: 1_250,
  ...overrides,
});

/** The body of `POST /orders`; each call has its own customer id. */
export function anOrderRequest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    customerId: `customer-${randomUUID().slice(0, 8)}`,
    items: [anItem(), anItem({ sku: 'SKU-PEN-7', quantity: 1, unitPriceCents: 399 })],
    shippingAddress: anAddress(),
    currency: 'EUR',
    ...overrides,
  };
}

/** A `NewOrder` payload with a fresh order id and a total that matches its items. */
export function aNewOrder(overrides: Partial<NewOrder> = {}): NewOrder {
  const items = overrides.items ?? [anItem()];
  return {
    orderId: randomUUID(),
    customerId: `customer-${randomUUID().slice(0, 8)}`,
    items,
    totalCents: items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0),
    currency: 'EUR',
    shippingAddress: anAddress(),
    placedAt: new Date().toISOString(),
    ...overrides,
  };
}
