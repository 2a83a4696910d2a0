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
    if (await this.addFirst(inbox, contribution).catch(unlessDuplicate)) return 'processed';
    // The order was counted already, or this message was handled before: record which.
    return this.db.transaction(async (tx) => {
      if (!(await claimInbox(tx, inbox.consumer, inbox.messageId, inbox.type))) return 'duplicate';
      const firstTime = await tx.$executeRawUnsafe(
        `INSERT INTO counted_orders (order_id, currency) VALUES ($1::uuid, $2) ON CONFLICT DO NOTHING`,
        contribution.orderId,
        contribution.currency,
      );
      if (firstTime === 0) return 'duplicate';
      await tx.$executeRawUnsafe(
        `INSERT INTO currency_totals (currency, orders, revenue_cents, items_sold, last_order_at)
         VALUES ($1, 1, $2, $3, $4) ${ADD_TO_TOTALS}`,
        contribution.currency,
        contribution.revenueCents,
        contribution.itemsSold,
        contribution.lastOrderAt,
      );
      return 'processed';
    });
  }

  /**
   * The usual case in one statement (one round trip, its own transaction): the order
   * counted, the inbox row and the totals, or, when the order was counted already, nothing.
   */
  private async addFirst(
    inbox: { consumer: string; messageId: string; type: string },
    contribution: Contribution,
  ): Promise<boolean> {
    const [row] = await this.db.$queryRawUnsafe<{ counted: number }[]>(
      `WITH counted AS (
         INSERT INTO counted_orders (order_id, currency) VALUES ($1::uuid, $2)
         ON CONFLICT DO NOTHING RETURNING order_id),
       inbox AS (
         INSERT INTO inbox_messages (consumer, message_id, type)
         SELECT $6, $7::uuid, $8 FROM counted),
       totals AS (
         INSERT INTO currency_totals (currency, orders, revenue_cents, items_sold, last_order_at)
         SELECT $2, 1, $3::bigint, $4::bigint, $5::timestamptz FROM counted ${ADD_TO_TOTALS})
       SELECT count(*)::int AS counted FROM counted`,
      contribution.orderId,
      contribution.currency,
      contribution.revenueCents,
      contribution.itemsSold,
      contribution.lastOrderAt,
      inbox.consumer,
      inbox.messageId,
      inbox.type,
    );
    return row?.counted === 1;
  }
}

// An order adds to its currency's totals in one statement, so concurrent orders of one
// currency serialise on the row lock.
const ADD_TO_TOTALS = `ON CONFLICT (currency) DO UPDATE SET
  orders = currency_totals.orders + 1,
  revenue_cents = currency_totals.revenue_cents + EXCLUDED.revenue_cents,
  items_sold = currency_totals.items_sold + EXCLUDED.items_sold,
  last_order_at = GREATEST(currency_totals.last_order_at, EXCLUDED.last_order_at)`;

/** A unique violation (23505) means "handled before": the transaction path says so. */
function unlessDuplicate(err: unknown): false {
  if ((err as { code?: string }).code === '23505') return false;
  throw err;
}
