import type { IncomingMessage } from '@app/broker';
import { createOnce } from '@app/store';
import type { CustomerPoints, OrderPoints } from '../domain/points';
import type { PointsLedger } from '../domain/record-points.use-case';
import type { Database } from './prisma';

export class PointsRepository {
  constructor(private readonly db: Database) {}

  async ofOrder(orderId: string): Promise<OrderPoints | undefined> {
    const row = await this.db.prisma.points.findUnique({ where: { orderId } });
    return row ?? undefined;
  }

  async ofCustomer(customerId: string): Promise<CustomerPoints> {
    const { _sum, _count } = await this.db.prisma.points.aggregate({
      where: { customerId },
      _sum: { points: true },
      _count: true,
    });
    return { customerId, points: _sum.points ?? 0, orders: _count };
  }

  /**
   * The ledger as one delivery sees it: the order's row and the delivery's inbox row are
   * written by one statement (createOnce), so a crash between them cannot record an order
   * without marking its message handled, or the other way round.
   */
  for(message: Pick<IncomingMessage<unknown>, 'inbox'>): PointsLedger {
    return {
      recordOnce: async (points) => {
        const { outcome } = await createOnce(this.db, {
          inbox: message.inbox,
          insert: {
            sql: `INSERT INTO __name___points
                    (order_id, customer_id, points, total_cents, currency, placed_at)
                  VALUES ($1::uuid, $2, $3, $4, $5, $6::timestamptz) ON CONFLICT DO NOTHING`,
            values: [
              points.orderId,
              points.customerId,
              points.points,
              points.totalCents,
              points.currency,
              points.placedAt,
            ],
          },
          entity: points,
        });
        return outcome;
      },
    };
  }
}
