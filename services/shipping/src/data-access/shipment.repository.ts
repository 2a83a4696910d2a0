import type { LineItem, ShippingAddress } from '@app/contracts';
import {
  addToOutbox,
  claimInbox,
  outboxInsert,
  outboxRows,
  type OutgoingMessage,
} from '@app/messaging';
import type { Shipment } from '../domain/shipment';
import type { Shipment as ShipmentRow } from '../generated/prisma/client';
import type { Database } from './prisma';

export interface InboxRef {
  consumer: string;
  messageId: string;
  type: string;
}

export type PrepareResult =
  { outcome: 'processed'; shipment: Shipment } | { outcome: 'duplicate'; shipment?: Shipment };

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

  /**
   * Stores the shipment and the messages announcing it in one transaction, once per
   * message (inbox) and once per order (unique order id): a second request for the same
   * order finds the first shipment and creates nothing, though it may still answer
   * (`messagesFor` with `created` false).
   */
  async prepareOnce(
    inbox: InboxRef,
    shipment: Shipment,
    messagesFor: (shipment: Shipment, created: boolean) => OutgoingMessage[],
  ): Promise<PrepareResult> {
    const first = this.prepareFirst(inbox, shipment, messagesFor(shipment, true));
    if (await first.catch(unlessDuplicate)) return { outcome: 'processed', shipment };
    // The order has a shipment already, or this message was handled before: decide which.
    return this.db.transaction(async (tx) => {
      if (!(await claimInbox(tx, inbox.consumer, inbox.messageId, inbox.type))) {
        return { outcome: 'duplicate' } as const;
      }
      // ON CONFLICT DO NOTHING: a concurrent request for the same order waits for the
      // first to commit, then finds its shipment instead of failing on the unique index.
      const count = await tx.$executeRawUnsafe(
        `INSERT INTO shipments (id, order_id, items, shipping_address, status, created_at)
         VALUES ($1::uuid, $2::uuid, $3::jsonb, $4::jsonb, $5, $6) ON CONFLICT DO NOTHING`,
        shipment.id,
        shipment.orderId,
        JSON.stringify(shipment.items),
        JSON.stringify(shipment.shippingAddress),
        shipment.status,
        shipment.createdAt,
      );
      if (count === 0) {
        const [row] = await tx.$queryRawUnsafe<ShipmentSqlRow[]>(
          `SELECT id, order_id, items, shipping_address, status, created_at
             FROM shipments WHERE order_id = $1::uuid`,
          shipment.orderId,
        );
        if (!row)
          throw new Error(`shipment of order ${shipment.orderId} conflicted but is not there`);
        const earlier = fromSqlRow(row);
        for (const message of messagesFor(earlier, false)) await addToOutbox(tx, message);
        return { outcome: 'duplicate', shipment: earlier } as const;
      }
      for (const message of messagesFor(shipment, true)) await addToOutbox(tx, message);
      return { outcome: 'processed', shipment } as const;
    });
  }

  /**
   * The usual case in one statement (one round trip, its own transaction): the shipment,
   * the inbox row and the messages, or, when the order has a shipment already, nothing.
   * A message handled before finds its order's shipment, so its inbox row does not collide
   * here; if it did (the shipment was removed by hand), the statement would write nothing.
   */
  private async prepareFirst(
    inbox: InboxRef,
    shipment: Shipment,
    messages: OutgoingMessage[],
  ): Promise<boolean> {
    const [row] = await this.db.$queryRawUnsafe<{ created: number }[]>(
      `WITH shipment AS (
         INSERT INTO shipments (id, order_id, items, shipping_address, status, created_at)
         VALUES ($1::uuid, $2::uuid, $3::jsonb, $4::jsonb, $5, $6) ON CONFLICT DO NOTHING RETURNING id),
       inbox AS (
         INSERT INTO inbox_messages (consumer, message_id, type)
         SELECT $7, $8::uuid, $9 FROM shipment),
       outbox AS (${outboxInsert('$10')} WHERE EXISTS (SELECT 1 FROM shipment))
       SELECT count(*)::int AS created FROM shipment`,
      shipment.id,
      shipment.orderId,
      JSON.stringify(shipment.items),
      JSON.stringify(shipment.shippingAddress),
      shipment.status,
      shipment.createdAt,
      inbox.consumer,
      inbox.messageId,
      inbox.type,
      outboxRows(messages),
    );
    return row?.created === 1;
  }
}

/** A shipment row as `pg` returns it. */
interface ShipmentSqlRow {
  id: string;
  order_id: string;
  items: LineItem[];
  shipping_address: ShippingAddress;
  status: string;
  created_at: Date;
}

const fromSqlRow = (row: ShipmentSqlRow): Shipment => ({
  id: row.id,
  orderId: row.order_id,
  items: row.items,
  shippingAddress: row.shipping_address,
  status: row.status as Shipment['status'],
  createdAt: row.created_at,
});

function toShipment(row: ShipmentRow): Shipment {
  return {
    id: row.id,
    orderId: row.orderId,
    items: row.items as unknown as LineItem[],
    shippingAddress: row.shippingAddress as unknown as ShippingAddress,
    status: row.status as Shipment['status'],
    createdAt: row.createdAt,
  };
}

/** A unique violation (23505) means "handled before": the transaction path says so. */
function unlessDuplicate(err: unknown): false {
  if ((err as { code?: string }).code === '23505') return false;
  throw err;
}
