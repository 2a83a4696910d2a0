import { claimInbox } from '@app/messaging';
import type { Contribution, CurrencyTotals } from '../domain/statistics';
import type { Database } from './prisma';

export class StatisticsRepository {
  constructor(private readonly db: Database) {}

  async totals(): Promise<CurrencyTotals[]> {
    const rows = await this.db.prisma.currencyTotals.findMany({ orderBy: { currency: 'asc' } });
    return rows.map((row) => ({
      currency: row.currency,
      orders: row.orders,
      revenueCents: Number(row.revenueCents),
      itemsSold: Number(row.itemsSold),
      lastOrderAt: row.lastOrderAt,
    }));
  }

  /**
   * Adds one order to its currency's totals, once per message (inbox) and once per order
   * (counted_orders), in one transaction.
   */
  async addOnce(
    inbox: { consumer: string; messageId: string; type: string },
    contribution: Contribution,
  ): Promise<'processed' | 'duplicate'> {
    return this.db.transaction(async (tx) => {
      if (!(await claimInbox(tx, inbox.consumer, inbox.messageId, inbox.type))) return 'duplicate';
      const firstTime = await tx.$executeRawUnsafe(
        `INSERT INTO counted_orders (order_id, currency) VALUES ($1::uuid, $2) ON CONFLICT DO NOTHING`,
        contribution.orderId,
        contribution.currency,
      );
      if (firstTime === 0) return 'duplicate';
      // One statement, so concurrent orders of one currency serialise on the row lock.
      await tx.$executeRawUnsafe(
        `INSERT INTO currency_totals (currency, orders, revenue_cents, items_sold, last_order_at)
         VALUES ($1, 1, $2, $3, $4)
         ON CONFLICT (currency) DO UPDATE SET
           orders = currency_totals.orders + 1,
           revenue_cents = currency_totals.revenue_cents + EXCLUDED.revenue_cents,
           items_sold = currency_totals.items_sold + EXCLUDED.items_sold,
           last_order_at = GREATEST(currency_totals.last_order_at, EXCLUDED.last_order_at)`,
        contribution.currency,
        contribution.revenueCents,
        contribution.itemsSold,
        contribution.lastOrderAt,
      );
      return 'processed';
    });
  }
}
