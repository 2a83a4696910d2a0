import type { LineItem, ShippingAddress } from '@app/contracts';
import { addToOutbox, claimInbox, type OutgoingMessage } from '@app/messaging';
import type { MessagingStyle, Order, OrderStatus } from '../domain/order';
import type { Prisma } from '../generated/prisma/client';
import type { Database } from './prisma';

const withItems = { items: { orderBy: { position: 'asc' } } } as const;
type OrderRow = Prisma.OrderGetPayload<{ include: typeof withItems }>;

export interface OrderPage {
  orders: Order[];
  nextCursor?: string;
}

/** What applying a message to an order did. */
export type OutcomeResult = { outcome: 'processed'; order: Order } | { outcome: 'duplicate' };

export class OrderRepository {
  constructor(private readonly db: Database) {}

  async findById(id: string): Promise<Order | undefined> {
    const row = await this.db.order.findUnique({ where: { id }, include: withItems });
    return row ? toOrder(row) : undefined;
  }

  async findByIdempotencyKey(
    key: string,
  ): Promise<{ order: Order; requestHash: string | null } | undefined> {
    const row = await this.db.order.findUnique({
      where: { idempotencyKey: key },
      include: withItems,
    });
    return row ? { order: toOrder(row), requestHash: row.requestHash } : undefined;
  }

  /** Newest first; the cursor is opaque to clients. */
  async list(limit: number, cursor?: string): Promise<OrderPage> {
    const after = cursor ? decodeCursor(cursor) : undefined;
    const rows = await this.db.order.findMany({
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

  /** Stores the order and its outgoing messages in one transaction (transactional outbox). */
  async insert(
    order: Order,
    messages: OutgoingMessage[],
    idempotency?: { key: string; requestHash: string },
  ): Promise<void> {
    await this.db.$transaction(async (tx) => {
      await tx.order.create({
        data: {
          id: order.id,
          status: order.status,
          style: order.style,
          customerId: order.customerId,
          currency: order.currency,
          totalCents: order.totalCents,
          shippingAddress: order.shippingAddress as unknown as Prisma.InputJsonValue,
          idempotencyKey: idempotency?.key ?? null,
          requestHash: idempotency?.requestHash ?? null,
          createdAt: order.createdAt,
          updatedAt: order.updatedAt,
          items: {
            create: order.items.map((item, position) => ({ position, ...item })),
          },
        },
      });
      for (const message of messages) await addToOutbox(tx, message);
    });
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
   * Applies `change` to the order once per message: the inbox row, the lock on the order
   * and the update share one transaction, so a redelivery finds the inbox row and stops.
   */
  async applyOnce(
    inbox: { consumer: string; messageId: string; type: string },
    orderId: string,
    change: (
      order: Order,
    ) => Partial<Pick<Order, 'status' | 'invoiceId' | 'shipmentId' | 'failureReason'>>,
  ): Promise<OutcomeResult> {
    return this.db.$transaction(async (tx) => {
      if (!(await claimInbox(tx, inbox.consumer, inbox.messageId, inbox.type))) {
        return { outcome: 'duplicate' } as const;
      }
      // Outcomes of one order can arrive at once on different deliveries: lock the row.
      const locked = await tx.$queryRawUnsafe<{ id: string }[]>(
        'SELECT id FROM orders WHERE id = $1::uuid FOR UPDATE',
        orderId,
      );
      if (locked.length === 0) {
        throw new UnknownOrderError(orderId);
      }
      const current = toOrder(
        await tx.order.findUniqueOrThrow({ where: { id: orderId }, include: withItems }),
      );
      const updates = change(current);
      const row = await tx.order.update({
        where: { id: orderId },
        data: updates,
        include: withItems,
      });
      return { outcome: 'processed', order: toOrder(row) } as const;
    });
  }
}

export class UnknownOrderError extends Error {
  constructor(readonly orderId: string) {
    super(`order ${orderId} does not exist`);
    this.name = 'UnknownOrderError';
  }
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
