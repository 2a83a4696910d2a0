import type { LineItem, ShippingAddress } from '@app/contracts';
import { messagesFor, type DeliveryRef } from '@app/broker';
import type { MessageIntent } from '@app/contracts';
import { pairUp } from '@app/runtime';
import { cancelOnce, createForOrdersOnce, type CreateOnce, type SqlClient } from '@app/store';
import type { Cancellations } from '../domain/cancel-shipment.use-case';
import type { ShipmentBatch, Shipments } from '../domain/prepare-shipment.use-case';
import type { Shipment } from '../domain/shipment';
import type { Shipment as ShipmentRow } from '../generated/prisma/client';
import type { Database } from './prisma';

/** The columns of a shipment under Prisma's field names, so one mapper reads both paths. */
const SHIPMENT_COLUMNS = `id, order_id AS "orderId", items, shipping_address AS "shippingAddress",
  status, created_at AS "createdAt"`;

export class ShipmentRepository {
  constructor(private readonly db: Database) {}

  async findById(id: string): Promise<Shipment | undefined> {
    const row = await this.db.prisma.shipment.findUnique({ where: { id } });
    return row ? toShipment(row) : undefined;
  }

  async list(filter: { orderId?: string; limit: number }): Promise<Shipment[]> {
    const rows = await this.db.prisma.shipment.findMany({
      where: filter.orderId ? { orderId: filter.orderId } : undefined,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: filter.limit,
    });
    return rows.map(toShipment);
  }

  /** The shipments as one delivery sees them: what it stores is recorded in the inbox. */
  for(message: DeliveryRef): Shipments & Cancellations {
    return {
      prepareOnce: async (shipment, answer) => {
        const [outcome] = await createForOrdersOnce(this.db, [
          this.prepareSpec(message, shipment, answer),
        ]);
        return outcome ?? 'duplicate';
      },

      cancelOnce: async (cancellation) => {
        const result = await cancelOnce(this.db, message.inbox, cancellation, {
          // The undo: a prepared shipment becomes CANCELLED.
          sql: `UPDATE shipments SET status = 'CANCELLED'
             WHERE order_id = $1::uuid AND status = 'PREPARED'`,
          values: [cancellation.orderId],
        });
        if (result.outcome !== 'cancelled') return result.outcome;
        return result.undone > 0 ? 'cancelled' : 'no-shipment-yet';
      },
    };
  }

  /** The shipments as a batch of deliveries sees them: one statement for all where it can. */
  forBatch(messages: DeliveryRef[]): ShipmentBatch {
    return {
      prepareEachOnce: async (shipments, answer) => {
        const outcomes = await createForOrdersOnce(
          this.db,
          pairUp(messages, shipments).map(([message, shipment]) =>
            this.prepareSpec(message, shipment, answer),
          ),
        );
        return outcomes;
      },
    };
  }

  /** The shipment's write: inserted unless its order has one or was cancelled (see createForOrdersOnce). */
  private prepareSpec(
    message: DeliveryRef,
    shipment: Shipment,
    answer: (shipment: Shipment, created: boolean) => MessageIntent[],
  ): CreateOnce<Shipment> {
    return {
      inbox: message.inbox,
      insert: {
        sql: `INSERT INTO shipments (id, order_id, items, shipping_address, status, created_at)
              SELECT $1::uuid, $2::uuid, $3::jsonb, $4::jsonb, $5::text, $6::timestamptz
              WHERE NOT order_is_cancelled($2::uuid)
              ON CONFLICT DO NOTHING`,
        values: [
          shipment.id,
          shipment.orderId,
          JSON.stringify(shipment.items),
          JSON.stringify(shipment.shippingAddress),
          shipment.status,
          shipment.createdAt,
        ],
      },
      entity: shipment,
      findExisting: (tx) => this.findByOrderId(tx, shipment.orderId),
      messagesFor: (prepared, created) =>
        messagesFor(answer(prepared, created), 'shipping', message.envelope),
    };
  }

  private async findByOrderId(tx: SqlClient, orderId: string): Promise<Shipment | undefined> {
    const [row] = await tx.$queryRawUnsafe<ShipmentRow[]>(
      `SELECT ${SHIPMENT_COLUMNS} FROM shipments WHERE order_id = $1::uuid`,
      orderId,
    );
    return row ? toShipment(row) : undefined;
  }
}

/** Items and address are JSON columns, written only from the validated contract types. */
function toShipment(row: ShipmentRow): Shipment {
  return {
    id: row.id,
    orderId: row.orderId,
    items: row.items as LineItem[],
    shippingAddress: row.shippingAddress as ShippingAddress,
    status: row.status as Shipment['status'],
    createdAt: row.createdAt,
  };
}
