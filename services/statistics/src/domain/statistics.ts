import type { NewOrder } from '@app/contracts';

/** `orders` counts every placed order; revenue and items leave the cancelled ones out. */
export interface CurrencyTotals {
  currency: string;
  orders: number;
  cancelledOrders: number;
  revenueCents: number;
  itemsSold: number;
  lastOrderAt: Date;
}

/** What one order adds to the totals of its currency, unless it was cancelled. */
export interface Contribution extends Omit<CurrencyTotals, 'orders' | 'cancelledOrders'> {
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
  cancelledOrders: number;
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
    cancelledOrders: byCurrency.reduce((sum, totals) => sum + totals.cancelledOrders, 0),
    revenueCents: byCurrency.reduce((sum, totals) => sum + totals.revenueCents, 0),
    itemsSold: byCurrency.reduce((sum, totals) => sum + totals.itemsSold, 0),
    lastOrderAt,
    byCurrency,
  };
}
