import type { IncomingMessage } from '@app/broker';
import { pairUp } from '@app/runtime';
import { cancelOnce, createOnce } from '@app/store';
import type { Outcome, Totals, TotalsBatch } from '../domain/count-order.use-case';
import type { CurrencyTotals } from '../domain/statistics';
import type { Cancellations } from '../domain/take-out-order.use-case';
import type { Database } from './prisma';

/**
 * A batch of orders counted in one statement (see `forBatch`): each order once (counted_orders),
 * its inbox row only if it was counted now, and per currency one upsert of the sums; an
 * order cancelled before it arrived counts as placed and cancelled, with no revenue and no
 * items, as in `addOnce`.
 */
const COUNT_BATCH = `
  WITH batch AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS b(order_id uuid, currency text,
      revenue_cents bigint, items_sold bigint, last_order_at timestamptz,
      consumer text, message_id uuid, type text)
  ),
  counted AS (
    INSERT INTO counted_orders (order_id, currency, revenue_cents, items_sold)
    SELECT order_id, currency, revenue_cents, items_sold FROM batch
    ON CONFLICT DO NOTHING RETURNING order_id
  ),
  inbox AS (
    INSERT INTO inbox_messages (consumer, message_id, type)
    SELECT b.consumer, b.message_id, b.type FROM batch b JOIN counted USING (order_id)
  ),
  totals AS (
    INSERT INTO currency_totals
      (currency, orders, cancelled_orders, revenue_cents, items_sold, last_order_at)
    SELECT b.currency, count(*),
      count(*) FILTER (WHERE tombstone.cancelled),
      sum(CASE WHEN tombstone.cancelled THEN 0 ELSE b.revenue_cents END),
      sum(CASE WHEN tombstone.cancelled THEN 0 ELSE b.items_sold END),
      max(b.last_order_at)
    FROM batch b JOIN counted USING (order_id), order_is_cancelled(b.order_id) AS tombstone(cancelled)
    GROUP BY b.currency
    ON CONFLICT (currency) DO UPDATE SET
      orders = currency_totals.orders + EXCLUDED.orders,
      cancelled_orders = currency_totals.cancelled_orders + EXCLUDED.cancelled_orders,
      revenue_cents = currency_totals.revenue_cents + EXCLUDED.revenue_cents,
      items_sold = currency_totals.items_sold + EXCLUDED.items_sold,
      last_order_at = GREATEST(currency_totals.last_order_at, EXCLUDED.last_order_at)
  )
  SELECT order_id::text AS order_id FROM counted`;

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
   * The totals as a batch of deliveries sees them: the orders counted, their inbox rows and
   * each currency's sums in one statement, the sums grouped by currency (one upsert may
   * touch a currency's row only once). An order twice in the batch, or one counted before,
   * goes one by one through `for(message).addOnce`, which tells a duplicate apart.
   */
  forBatch(messages: Pick<IncomingMessage<unknown>, 'inbox'>[]): TotalsBatch {
    return {
      addEachOnce: async (contributions) => {
        const pairs = pairUp(messages, contributions);
        // The first message of each order (and of each message id) goes into the statement.
        const seen = new Set<string>();
        const kept = new Set<number>();
        for (const [index, [message, { orderId }]] of pairs.entries()) {
          if (!seen.has(orderId) && !seen.has(message.inbox.messageId)) kept.add(index);
          seen.add(orderId).add(message.inbox.messageId);
        }
        const together = pairs.filter((_, index) => kept.has(index));
        const counted = new Set(
          (
            await this.db.$queryRawUnsafe<{ order_id: string }[]>(
              COUNT_BATCH,
              JSON.stringify(
                together.map(([{ inbox }, contribution]) => ({
                  order_id: contribution.orderId,
                  currency: contribution.currency,
                  revenue_cents: contribution.revenueCents,
                  items_sold: contribution.itemsSold,
                  last_order_at: contribution.lastOrderAt,
                  consumer: inbox.consumer,
                  message_id: inbox.messageId,
                  type: inbox.type,
                })),
              ),
            )
          ).map((row) => row.order_id),
        );
        const outcomes: Outcome[] = [];
        for (const [index, [message, contribution]] of pairs.entries()) {
          outcomes[index] =
            kept.has(index) && counted.has(contribution.orderId)
              ? 'processed'
              : await this.for(message).addOnce(contribution);
        }
        return outcomes;
      },
    };
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
