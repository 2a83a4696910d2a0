import type { NewOrder } from '@app/contracts';

export interface CurrencyTotals {
  currency: string;
  orders: number;
  revenueCents: number;
  itemsSold: number;
  lastOrderAt: Date;
}

/** What one order adds to the totals of its currency. */
export interface Contribution extends Omit<CurrencyTotals, 'orders'> {
  orderId: string;
}

export function contributionOf(order: NewOrder): Contribution {
  return {
    orderId: order.orderId,
    currency: order.currency,
    revenueCents: order.totalCents,
    itemsSold: order.items.reduce((sum, item) => sum + item.quantity, 0),
    lastOrderAt: new Date(order.placedAt),
  };
}

export interface Statistics {
  orders: number;
  revenueCents: number;
  itemsSold: number;
  lastOrderAt: Date | null;
  byCurrency: CurrencyTotals[];
}

export function summarize(byCurrency: CurrencyTotals[]): Statistics {
  const lastOrderAt = byCurrency.reduce<Date | null>(
    (latest, totals) => (latest && latest > totals.lastOrderAt ? latest : totals.lastOrderAt),
    null,
  );
  return {
    orders: byCurrency.reduce((sum, totals) => sum + totals.orders, 0),
    revenueCents: byCurrency.reduce((sum, totals) => sum + totals.revenueCents, 0),
    itemsSold: byCurrency.reduce((sum, totals) => sum + totals.itemsSold, 0),
    lastOrderAt,
    byCurrency,
  };
}
