import type { IncomingMessage } from '@app/broker';
import { cancelOnce, createOnce } from '@app/store';
import type { Totals } from '../domain/count-order.use-case';
import type { CurrencyTotals } from '../domain/statistics';
import type { Cancellations } from '../domain/take-out-order.use-case';
import type { Database } from './prisma';

export class StatisticsRepository {
  constructor(private readonly db: Database) {}

  async totals(): Promise<CurrencyTotals[]> {
    const rows = await this.db.prisma.currencyTotals.findMany({ orderBy: { currency: 'asc' } });
    return rows.map((row) => ({
      currency: row.currency,
      orders: row.orders,
      cancelledOrders: row.cancelledOrders,
      revenueCents: Number(row.revenueCents),
      itemsSold: Number(row.itemsSold),
      lastOrderAt: row.lastOrderAt,
    }));
  }

  /**
   * The totals as one delivery sees them: an order is counted once per message (inbox)
   * and once per order (counted_orders, which keeps what it added), and adds to its
   * currency's row in the same statement, so concurrent orders of one currency serialise
   * on that row's lock.
   */
  for(message: Pick<IncomingMessage<unknown>, 'inbox'>): Totals & Cancellations {
    return {
      addOnce: async (contribution) => {
        const { outcome } = await createOnce(this.db, {
          inbox: message.inbox,
          insert: {
            sql: `INSERT INTO counted_orders (order_id, currency, revenue_cents, items_sold)
                  VALUES ($1::uuid, $2, $3::bigint, $4::bigint) ON CONFLICT DO NOTHING`,
            values: [
              contribution.orderId,
              contribution.currency,
              contribution.revenueCents,
              contribution.itemsSold,
            ],
          },
          alsoWhenCreated: [
            {
              // An order cancelled before it arrived counts as placed and as cancelled,
              // and adds no revenue and no items.
              sql: `INSERT INTO currency_totals
                      (currency, orders, cancelled_orders, revenue_cents, items_sold, last_order_at)
                    SELECT $1, 1,
                      CASE WHEN cancelled THEN 1 ELSE 0 END,
                      CASE WHEN cancelled THEN 0 ELSE $2::bigint END,
                      CASE WHEN cancelled THEN 0 ELSE $3::bigint END,
                      $4::timestamptz
                    FROM changed, order_is_cancelled($5::uuid) AS tombstone(cancelled)
                    ON CONFLICT (currency) DO UPDATE SET
                      orders = currency_totals.orders + 1,
                      cancelled_orders = currency_totals.cancelled_orders + EXCLUDED.cancelled_orders,
                      revenue_cents = currency_totals.revenue_cents + EXCLUDED.revenue_cents,
                      items_sold = currency_totals.items_sold + EXCLUDED.items_sold,
                      last_order_at = GREATEST(currency_totals.last_order_at, EXCLUDED.last_order_at)`,
              values: [
                contribution.currency,
                contribution.revenueCents,
                contribution.itemsSold,
                contribution.lastOrderAt,
                contribution.orderId,
              ],
            },
          ],
          entity: contribution,
        });
        return outcome;
      },

      cancelOnce: async (cancellation) => {
        const result = await cancelOnce(this.db, message.inbox, cancellation, {
          // The undo: take out exactly what the order added, and count it as cancelled.
          sql: `UPDATE currency_totals AS totals SET
               cancelled_orders = totals.cancelled_orders + 1,
               revenue_cents = totals.revenue_cents - counted.revenue_cents,
               items_sold = totals.items_sold - counted.items_sold
             FROM counted_orders AS counted
             WHERE counted.order_id = $1::uuid AND totals.currency = counted.currency`,
          values: [cancellation.orderId],
        });
        if (result.outcome !== 'cancelled') return result.outcome;
        return result.undone > 0 ? 'taken-out' : 'not-counted-yet';
      },
    };
  }
}
