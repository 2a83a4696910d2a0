import type { IncomingMessage } from '@app/broker';
import { createOnce } from '@app/store';
import type { Totals } from '../domain/count-order.use-case';
import type { CurrencyTotals } from '../domain/statistics';
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
   * The totals as one delivery sees them: an order is counted once per message (inbox)
   * and once per order (counted_orders), and adds to its currency's row in the same
   * statement, so concurrent orders of one currency serialise on that row's lock.
   */
  for(message: Pick<IncomingMessage<unknown>, 'inbox'>): Totals {
    return {
      addOnce: async (contribution) => {
        const { outcome } = await createOnce(this.db, {
          inbox: message.inbox,
          insert: {
            sql: `INSERT INTO counted_orders (order_id, currency) VALUES ($1::uuid, $2)
                  ON CONFLICT DO NOTHING`,
            values: [contribution.orderId, contribution.currency],
          },
          alsoWhenCreated: [
            {
              sql: `INSERT INTO currency_totals (currency, orders, revenue_cents, items_sold, last_order_at)
                    SELECT $1, 1, $2::bigint, $3::bigint, $4::timestamptz FROM changed
                    ON CONFLICT (currency) DO UPDATE SET
                      orders = currency_totals.orders + 1,
                      revenue_cents = currency_totals.revenue_cents + EXCLUDED.revenue_cents,
                      items_sold = currency_totals.items_sold + EXCLUDED.items_sold,
                      last_order_at = GREATEST(currency_totals.last_order_at, EXCLUDED.last_order_at)`,
              values: [
                contribution.currency,
                contribution.revenueCents,
                contribution.itemsSold,
                contribution.lastOrderAt,
              ],
            },
          ],
          entity: contribution,
        });
        return outcome;
      },
    };
  }
}
