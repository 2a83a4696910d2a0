import type { LineItem, ShippingAddress } from '@app/contracts';
import { outboxInsert, outboxRows, type OutgoingMessage } from '@app/messaging';
import type { MessagingStyle, Order, OrderStatus } from '../domain/order';
import type { Prisma } from '../generated/prisma/client';
import type { Database } from './prisma';

const withItems = { items: { orderBy: { position: 'asc' } } } as const;
type OrderRow = Prisma.OrderGetPayload<{ include: typeof withItems }>;

/** An order row as `pg` returns it, with its items as JSON (see ORDER_WITH_ITEMS). */
interface OrderSqlRow {
  id: string;
  status: string;
  style: string;
  customer_id: string;
  currency: string;
  total_cents: number;
  shipping_address: ShippingAddress;
  invoice_id: string | null;
  shipment_id: string | null;
  failure_reason: string | null;
  created_at: Date;
  updated_at: Date;
  items: LineItem[];
}

const ORDER_WITH_ITEMS = `
  SELECT o.id, o.status, o.style, o.customer_id, o.currency, o.total_cents, o.shipping_address,
         o.invoice_id, o.shipment_id, o.failure_reason, o.created_at, o.updated_at,
         (SELECT coalesce(json_agg(json_build_object('sku', i.sku, 'quantity', i.quantity,
                   'unitPriceCents', i.unit_price_cents) ORDER BY i.position), '[]')
            FROM order_items i WHERE i.order_id = o.id) AS items
    FROM orders o`;

export interface OrderPage {
  orders: Order[];
  nextCursor?: string;
}

/** What applying a message to an order did. */
export type OutcomeResult = { outcome: 'processed'; order: Order } | { outcome: 'duplicate' };

export class OrderRepository {
  constructor(private readonly db: Database) {}

  async findById(id: string): Promise<Order | undefined> {
    const row = await this.db.prisma.order.findUnique({ where: { id }, include: withItems });
    return row ? toOrder(row) : undefined;
  }

  async findByIdempotencyKey(
    key: string,
  ): Promise<{ order: Order; requestHash: string | null } | undefined> {
    const row = await this.db.prisma.order.findUnique({
      where: { idempotencyKey: key },
      include: withItems,
    });
    return row ? { order: toOrder(row), requestHash: row.requestHash } : undefined;
  }

  /** Newest first; the cursor is opaque to clients. */
  async list(limit: number, cursor?: string): Promise<OrderPage> {
    const after = cursor ? decodeCursor(cursor) : undefined;
    const rows = await this.db.prisma.order.findMany({
      where: after
        ? {
            OR: [
              { createdAt: { lt: after.createdAt } },
              { createdAt: after.createdAt, id: { lt: after.id } },
            ],
          }
        : undefined,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
      include: withItems,
    });
    const page = rows.slice(0, limit).map(toOrder);
    const last = page.at(-1);
    return rows.length > limit && last
      ? { orders: page, nextCursor: encodeCursor(last) }
      : { orders: page };
  }

  /**
   * Stores the order, its items and its outgoing messages in one statement, and so in one
   * transaction (transactional outbox), in one round trip.
   */
  async insert(
    order: Order,
    messages: OutgoingMessage[],
    idempotency?: { key: string; requestHash: string },
  ): Promise<void> {
    await this.db.$executeRawUnsafe(
      `WITH inserted AS (
         INSERT INTO orders (id, status, style, customer_id, currency, total_cents,
                             shipping_address, idempotency_key, request_hash, created_at, updated_at)
         VALUES ($1::uuid, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11) RETURNING id),
       items AS (
         INSERT INTO order_items (order_id, position, sku, quantity, unit_price_cents)
         SELECT inserted.id, item.position, item.sku, item.quantity, item.unit_price_cents
           FROM inserted, jsonb_to_recordset($12::jsonb)
                AS item(position int, sku text, quantity int, unit_price_cents int))
       ${outboxInsert('$13')}`,
      order.id,
      order.status,
      order.style,
      order.customerId,
      order.currency,
      order.totalCents,
      JSON.stringify(order.shippingAddress),
      idempotency?.key ?? null,
      idempotency?.requestHash ?? null,
      order.createdAt,
      order.updatedAt,
      JSON.stringify(
        order.items.map((item, position) => ({
          position,
          sku: item.sku,
          quantity: item.quantity,
          unit_price_cents: item.unitPriceCents,
        })),
      ),
      outboxRows(messages),
    );
  }

  /** Marks the order FAILED with the reason; the first reason recorded is kept. */
  async markFailed(orderId: string, reason: string): Promise<void> {
    await this.db.$executeRawUnsafe(
      `UPDATE orders SET status = 'FAILED', updated_at = now(),
              failure_reason = COALESCE(failure_reason, $2)
        WHERE id = $1::uuid`,
      orderId,
      reason,
    );
  }

  /**
   * Applies `change` to the order once per message. Optimistic: the order is read, the
   * change decided, and then one statement writes it together with the inbox row, only if
   * the order is still as it was read; outcomes of one order arriving at once on different
   * deliveries make one of them read again. No transaction stays open across round trips,
   * so a busy service does not hold its pooled connections while it waits its turn. A
   * message handled before collides on its inbox row, and the statement writes nothing.
   */
  async applyOnce(
    inbox: { consumer: string; messageId: string; type: string },
    orderId: string,
    change: (
      order: Order,
    ) => Partial<Pick<Order, 'status' | 'invoiceId' | 'shipmentId' | 'failureReason'>>,
  ): Promise<OutcomeResult> {
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt += 1) {
      const [row] = await this.db.$queryRawUnsafe<OrderSqlRow[]>(
        `${ORDER_WITH_ITEMS} WHERE o.id = $1::uuid`,
        orderId,
      );
      if (!row) throw new UnknownOrderError(orderId);
      const seen = fromSqlRow(row);
      const order: Order = { ...seen, ...change(seen), updatedAt: new Date() };
      let written: { updated: number } | undefined;
      try {
        [written] = await this.db.$queryRawUnsafe<{ updated: number }[]>(
          `WITH updated AS (
             UPDATE orders SET status = $2, invoice_id = $3::uuid, shipment_id = $4::uuid,
                    failure_reason = $5, updated_at = $6
              WHERE id = $1::uuid AND status = $7 AND invoice_id IS NOT DISTINCT FROM $8::uuid
                AND shipment_id IS NOT DISTINCT FROM $9::uuid
                AND failure_reason IS NOT DISTINCT FROM $10::text
             RETURNING id),
           inbox AS (
             INSERT INTO inbox_messages (consumer, message_id, type)
             SELECT $11, $12::uuid, $13 FROM updated)
           SELECT count(*)::int AS updated FROM updated`,
          order.id,
          order.status,
          order.invoiceId ?? null,
          order.shipmentId ?? null,
          order.failureReason ?? null,
          order.updatedAt,
          seen.status,
          seen.invoiceId ?? null,
          seen.shipmentId ?? null,
          seen.failureReason ?? null,
          inbox.consumer,
          inbox.messageId,
          inbox.type,
        );
      } catch (err) {
        if ((err as { code?: string }).code === UNIQUE_VIOLATION) return { outcome: 'duplicate' };
        throw err;
      }
      if (written?.updated === 1) return { outcome: 'processed', order };
    }
    throw new Error(`order ${orderId} kept changing; ${inbox.type} will be retried`);
  }
}

/** Writes of one order that may find it changed in between before the message is retried. */
const MAX_WRITE_ATTEMPTS = 10;
const UNIQUE_VIOLATION = '23505';

export class UnknownOrderError extends Error {
  constructor(readonly orderId: string) {
    super(`order ${orderId} does not exist`);
    this.name = 'UnknownOrderError';
  }
}

function fromSqlRow(row: OrderSqlRow): Order {
  return {
    id: row.id,
    status: row.status as OrderStatus,
    style: row.style as MessagingStyle,
    customerId: row.customer_id,
    items: row.items,
    totalCents: row.total_cents,
    currency: row.currency,
    shippingAddress: row.shipping_address,
    ...(row.invoice_id ? { invoiceId: row.invoice_id } : {}),
    ...(row.shipment_id ? { shipmentId: row.shipment_id } : {}),
    ...(row.failure_reason ? { failureReason: row.failure_reason } : {}),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toOrder(row: OrderRow): Order {
  return {
    id: row.id,
    status: row.status as OrderStatus,
    style: row.style as MessagingStyle,
    customerId: row.customerId,
    items: row.items.map(({ sku, quantity, unitPriceCents }): LineItem => ({
      sku,
      quantity,
      unitPriceCents,
    })),
    totalCents: row.totalCents,
    currency: row.currency,
    shippingAddress: row.shippingAddress as unknown as ShippingAddress,
    ...(row.invoiceId ? { invoiceId: row.invoiceId } : {}),
    ...(row.shipmentId ? { shipmentId: row.shipmentId } : {}),
    ...(row.failureReason ? { failureReason: row.failureReason } : {}),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function encodeCursor(order: Order): string {
  return Buffer.from(`${order.createdAt.toISOString()}|${order.id}`).toString('base64url');
}

export class InvalidCursorError extends Error {}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  if (!id || Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/.test(id)) {
    throw new InvalidCursorError('cursor is not one this service issued');
  }
  return { createdAt, id };
}
