import type { LineItem, MessageIntent, ShippingAddress } from '@app/contracts';
import { messagesFor, type InboxRef, type DeliveryRef, type OutgoingMessage } from '@app/broker';
import { pairUp } from '@app/runtime';
import {
  claimInbox,
  isUniqueViolation,
  writeManyOnce,
  writeOnce,
  type RetentionTarget,
  type Statement,
} from '@app/store';
import {
  TerminalStatuses,
  type MessagingStyle,
  type Order,
  type OrderStatus,
} from '../domain/order';
import type { Transition } from '../domain/order-saga';
import type { PlacedOrders } from '../domain/place-order.use-case';
import type {
  FailedOrders,
  OrderSaga,
  OrderSagaBatch,
  Outcome,
} from '../domain/record-outcome.use-case';
import type { Database } from './prisma';

/**
 * Idempotency keys are kept for `windowMs`, then cleared (the order stays): a request that
 * repeats a key after that is a new order.
 */
export function idempotencyKeyRetention(windowMs: number): RetentionTarget {
  return {
    name: 'idempotency_keys',
    table: 'orders',
    timeColumn: 'created_at',
    windowMs,
    clear: ['idempotency_key', 'request_hash'],
  };
}

/** An order row with its items as JSON, under the domain's field names (ORDER_WITH_ITEMS). */
interface OrderRecord {
  id: string;
  status: string;
  style: string;
  customerId: string;
  currency: string;
  totalCents: number;
  shippingAddress: ShippingAddress;
  invoiceId: string | null;
  shipmentId: string | null;
  failureReason: string | null;
  paymentId: string | null;
  cancellationReason: string | null;
  requestHash: string | null;
  createdAt: Date;
  updatedAt: Date;
  items: LineItem[];
}

/**
 * An order and its items in one row, the one read every path uses (HTTP and the saga),
 * mapped by `toOrder` alone.
 */
const ORDER_WITH_ITEMS = `
  SELECT o.id, o.status, o.style, o.customer_id AS "customerId", o.currency,
         o.total_cents AS "totalCents", o.shipping_address AS "shippingAddress",
         o.invoice_id AS "invoiceId", o.shipment_id AS "shipmentId",
         o.failure_reason AS "failureReason", o.payment_id AS "paymentId",
         o.cancellation_reason AS "cancellationReason", o.request_hash AS "requestHash",
         o.created_at AS "createdAt", o.updated_at AS "updatedAt",
         (SELECT coalesce(json_agg(json_build_object('sku', i.sku, 'quantity', i.quantity,
                   'unitPriceCents', i.unit_price_cents) ORDER BY i.position), '[]')
            FROM order_items i WHERE i.order_id = o.id) AS items
    FROM orders o`;

/** The open orders; its WHERE clause is the predicate of the partial index `orders_open_idx`. */
const COUNT_OPEN = `SELECT count(*)::int AS open FROM orders WHERE status NOT IN (${[
  ...TerminalStatuses,
]
  .map((status) => `'${status}'`)
  .join(', ')})`;

export interface OrderPage {
  orders: Order[];
  nextCursor?: string;
}

/** What applying a message to an order did. */
export type OutcomeResult = { outcome: 'processed'; order: Order } | { outcome: 'duplicate' };

export class OrderRepository implements PlacedOrders, FailedOrders {
  /**
   * The orders as this process last wrote them, newest last, at most `RECENT_ORDERS`. A
   * change starts from this instead of reading the order: its update is guarded by what
   * it started from, so an entry that another instance (or a cancellation) made stale
   * writes nothing, and the change reads the order and tries again. Terminal statuses are
   * final, so an order that is terminal here is terminal in the database too.
   */
  private readonly recent = new Map<string, Order>();
  /** The last change of each order that this process is applying or will apply next. */
  private readonly turns = new Map<string, Promise<void>>();

  private readonly finished: (order: Order) => void;
  private readonly changedMeanwhile: () => void;

  constructor(
    private readonly db: Database,
    hooks: {
      /** Hears of each order that reached a terminal state (for the end-to-end latency metric). */
      finished?: (order: Order) => void;
      /** Hears of each change that found its order changed since it was seen, and is decided again. */
      changedMeanwhile?: () => void;
    } = {},
  ) {
    this.finished = hooks.finished ?? (() => undefined);
    this.changedMeanwhile = hooks.changedMeanwhile ?? (() => undefined);
  }

  async findById(id: string): Promise<Order | undefined> {
    const [row] = await this.db.$queryRawUnsafe<OrderRecord[]>(
      `${ORDER_WITH_ITEMS} WHERE o.id = $1::uuid`,
      id,
    );
    return row ? toOrder(row) : undefined;
  }

  async findByIdempotencyKey(
    key: string,
  ): Promise<{ order: Order; requestHash: string | null } | undefined> {
    const [row] = await this.db.$queryRawUnsafe<OrderRecord[]>(
      `${ORDER_WITH_ITEMS} WHERE o.idempotency_key = $1`,
      key,
    );
    return row ? { order: toOrder(row), requestHash: row.requestHash } : undefined;
  }

  /** Orders accepted and not yet terminal (read through the partial index `orders_open_idx`). */
  async countOpen(): Promise<number> {
    const [row] = await this.db.$queryRawUnsafe<{ open: number }[]>(COUNT_OPEN);
    return row?.open ?? 0;
  }

  /** Newest first; the cursor is opaque to clients. */
  async list(limit: number, cursor?: string): Promise<OrderPage> {
    const after = cursor ? decodeCursor(cursor) : undefined;
    const rows = await this.db.$queryRawUnsafe<OrderRecord[]>(
      `${ORDER_WITH_ITEMS}
        WHERE $2::timestamptz IS NULL OR (o.created_at, o.id) < ($2::timestamptz, $3::uuid)
        ORDER BY o.created_at DESC, o.id DESC LIMIT $1`,
      limit + 1,
      after?.createdAt ?? null,
      after?.id ?? null,
    );
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
    intents: MessageIntent[],
    idempotency?: { key: string; requestHash: string },
  ): Promise<void> {
    await writeOnce(
      this.db,
      {
        sql: `INSERT INTO orders (id, status, style, customer_id, currency, total_cents,
                shipping_address, idempotency_key, request_hash, created_at, updated_at)
              VALUES ($1::uuid, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11)`,
        values: [
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
        ],
      },
      undefined,
      messagesFor(intents, 'order', { correlationId: order.id }),
      [
        {
          sql: `INSERT INTO order_items (order_id, position, sku, quantity, unit_price_cents)
                SELECT $1::uuid, item.position, item.sku, item.quantity, item.unit_price_cents
                  FROM changed, jsonb_to_recordset($2::jsonb)
                       AS item(position int, sku text, quantity int, unit_price_cents int)`,
          values: [
            order.id,
            JSON.stringify(
              order.items.map((item, position) => ({
                position,
                sku: item.sku,
                quantity: item.quantity,
                unit_price_cents: item.unitPriceCents,
              })),
            ),
          ],
        },
      ],
    );
    this.remember(order);
  }

  /** Marks the order FAILED with the reason, unless it is terminal already. */
  async markFailed(orderId: string, reason: string): Promise<void> {
    await this.db.$executeRawUnsafe(
      `UPDATE orders SET status = 'FAILED', updated_at = now(), failure_reason = $2
        WHERE id = $1::uuid AND status NOT IN ('COMPLETED', 'CANCELLED', 'FAILED')`,
      orderId,
      reason,
    );
  }

  /** The orders as one delivery sees them: each change is recorded in the inbox with it. */
  for(message: DeliveryRef): OrderSaga {
    return {
      applyOnce: (orderId, decide) =>
        this.inTurn([orderId], () => this.applyOnce(message, orderId, decide)),
    };
  }

  /** The orders as a batch of deliveries sees them: one read and one write for all where it can. */
  forBatch(messages: DeliveryRef[]): OrderSagaBatch {
    return {
      applyEachOnce: (changes) =>
        this.inTurn(
          changes.map((change) => change.orderId),
          () => this.applyEachOnce(messages, changes),
        ),
    };
  }

  /**
   * Runs `work` once the changes of these orders that this process started before are
   * done. An order's outcomes (its invoice, shipment and payment decision) come at once on
   * different queues; applied side by side, all but one would find the order changed
   * under them and read and write again. In turn, each starts from what the one before
   * wrote (see `recent`), and none of them reads. Instances of Order still race each
   * other, and the guarded update settles that.
   */
  private async inTurn<T>(orderIds: string[], work: () => Promise<T>): Promise<T> {
    const before = [...new Set(orderIds)].flatMap((id) => this.turns.get(id) ?? []);
    let done = (): void => undefined;
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    for (const id of orderIds) this.turns.set(id, mine);
    try {
      await Promise.all(before);
      return await work();
    } finally {
      done();
      for (const id of orderIds) if (this.turns.get(id) === mine) this.turns.delete(id);
    }
  }

  /** Keeps `order` as this process wrote it (see `recent`). */
  private remember(order: Order): void {
    this.recent.delete(order.id);
    this.recent.set(order.id, order);
    if (this.recent.size > RECENT_ORDERS) {
      const oldest = this.recent.keys().next();
      if (!oldest.done) this.recent.delete(oldest.value);
    }
  }

  /**
   * Optimistic: the change is decided on the order as this process last wrote it (or as
   * read), and then one statement writes it together with the inbox row, only if the order
   * is still as it was seen; if it changed meanwhile, the order is read and the change
   * decided again. No transaction stays open across round trips, so a busy service does
   * not hold its pooled connections while it waits its turn. A message handled before
   * collides on its inbox row, and the statement writes nothing.
   */
  private async applyOnce(
    message: DeliveryRef,
    orderId: string,
    decide: (order: Order) => Transition | 'ignored',
  ): Promise<Applied> {
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt += 1) {
      const seen = (attempt === 1 && this.recent.get(orderId)) || (await this.findById(orderId));
      if (!seen) throw new UnknownOrderError(orderId);
      const decision = decide(seen);
      if (decision === 'ignored') {
        const first = await claimInbox(this.db, message.inbox);
        return { outcome: first ? 'ignored' : 'duplicate', order: seen };
      }
      const change = changeOf(message, seen, decision);
      let written: number;
      try {
        written = await writeOnce(this.db, change.update, message.inbox, change.messages);
      } catch (err) {
        if (isUniqueViolation(err)) return { outcome: 'duplicate' };
        throw err;
      }
      if (written === 1) return this.applied(seen, change);
      this.recent.delete(orderId);
      this.changedMeanwhile();
    }
    throw new Error(`order ${orderId} kept changing; ${message.inbox.type} will be retried`);
  }

  /**
   * `applyOnce` for a batch: the orders read in one query and the changes written in one
   * statement (`writeManyOnce`). Changes of one order are applied in turn to what the one
   * before left (InvoiceCreated and ShipmentCreated of an order often come together) and
   * written as one update, recorded for each of their deliveries. Each update writes only
   * if its order is still as read; one that wrote nothing there (the order changed
   * meanwhile), a change the order ignores and an unknown order go through `applyOnce` one
   * by one. A message handled before is among those, or, should its change still apply,
   * makes the statement fail on its inbox row, and then all of them go one by one.
   */
  private async applyEachOnce(
    messages: DeliveryRef[],
    changes: { orderId: string; decide: (order: Order) => Transition | 'ignored' }[],
  ): Promise<Applied[]> {
    const pairs = pairUp(messages, changes);
    const ids = [...new Set(changes.map((change) => change.orderId))];
    const known = ids.flatMap((id) => this.recent.get(id) ?? []);
    const unknown = ids.filter((id) => !this.recent.has(id));
    const rows =
      unknown.length === 0
        ? []
        : await this.db.$queryRawUnsafe<OrderRecord[]>(
            `${ORDER_WITH_ITEMS} WHERE o.id = ANY($1::uuid[])`,
            unknown,
          );
    const planned = new Map<string, Folded>();
    for (const seen of [...known, ...rows.map(toOrder)]) {
      planned.set(seen.id, { seen, order: seen, indexes: [], inbox: [], messages: [] });
    }
    for (const [index, [message, { orderId, decide }]] of pairs.entries()) {
      const plan = planned.get(orderId);
      if (!plan) continue;
      const decision = decide(plan.order);
      if (decision === 'ignored') continue;
      plan.order = { ...plan.order, ...decision.change, updatedAt: new Date() };
      plan.indexes.push(index);
      plan.inbox.push(message.inbox);
      plan.messages.push(...messagesFor(decision.say, 'order', message.envelope));
    }
    const folded = [...planned.values()].filter((plan) => plan.indexes.length > 0);
    /** A message of the batch was handled before: nothing was written (see above). */
    let collided = false;
    const written =
      folded.length === 0
        ? []
        : await writeManyOnce(
            this.db,
            folded.map((plan) => ({
              change: updateOf(plan.seen, plan.order),
              inbox: plan.inbox,
              messages: plan.messages,
            })),
          ).catch((err: unknown) => {
            if (!isUniqueViolation(err)) throw err;
            collided = true;
            return folded.map(() => 0);
          });
    const results: (Applied | undefined)[] = changes.map(() => undefined);
    for (const [k, plan] of folded.entries()) {
      if (written[k] !== 1) {
        // The order changed since it was seen; `applyOnce` below reads it and decides again.
        this.recent.delete(plan.seen.id);
        if (!collided) this.changedMeanwhile();
        continue;
      }
      const applied = this.applied(plan.seen, plan);
      for (const index of plan.indexes) results[index] = applied;
    }
    for (const [index, [message, { orderId, decide }]] of pairs.entries()) {
      results[index] ??= await this.applyOnce(message, orderId, decide);
    }
    return results.map((result) => result ?? { outcome: 'duplicate' });
  }

  /** After a change was written: remember the order, hear of a finished order. */
  private applied(seen: Order, { order }: Pick<Change, 'order'>): Applied {
    this.remember(order);
    if (TerminalStatuses.has(order.status) && !TerminalStatuses.has(seen.status)) {
      this.finished(order);
    }
    return { outcome: 'processed', order };
  }
}

/** What applying a change did: the outcome and, unless a duplicate, the order afterwards. */
type Applied = { outcome: Outcome; order?: Order };

/** A decided change of an order: the order afterwards, its guarded update and its messages. */
interface Change {
  order: Order;
  update: Statement;
  messages: OutgoingMessage[];
}

/** Changes of one order in a batch, applied in turn: the order as read and as they leave it. */
interface Folded {
  seen: Order;
  order: Order;
  /** The changes' places in the batch, their deliveries and their messages. */
  indexes: number[];
  inbox: InboxRef[];
  messages: OutgoingMessage[];
}

/** The change `decision` makes to `seen`, with its messages. */
function changeOf(message: DeliveryRef, seen: Order, decision: Transition): Change {
  const order: Order = { ...seen, ...decision.change, updatedAt: new Date() };
  return {
    order,
    messages: messagesFor(decision.say, 'order', message.envelope),
    update: updateOf(seen, order),
  };
}

/** The update from `seen` to `order`: it writes only if the order is still as seen. */
function updateOf(seen: Order, order: Order): Statement {
  return {
    sql: `UPDATE orders SET status = $2, payment_id = $3::uuid, invoice_id = $4::uuid,
                   shipment_id = $5::uuid, failure_reason = $6, cancellation_reason = $7,
                   updated_at = $8
             WHERE id = $1::uuid AND status = $9
               AND payment_id IS NOT DISTINCT FROM $10::uuid
               AND invoice_id IS NOT DISTINCT FROM $11::uuid
               AND shipment_id IS NOT DISTINCT FROM $12::uuid`,
    values: [
      order.id,
      order.status,
      order.paymentId ?? null,
      order.invoiceId ?? null,
      order.shipmentId ?? null,
      order.failureReason ?? null,
      order.cancellationReason ?? null,
      order.updatedAt,
      seen.status,
      seen.paymentId ?? null,
      seen.invoiceId ?? null,
      seen.shipmentId ?? null,
    ],
  };
}

/** Orders kept as this process last wrote them (see `OrderRepository.recent`): a few seconds' worth. */
const RECENT_ORDERS = 4_096;

/** Writes of one order that may find it changed in between before the message is retried. */
const MAX_WRITE_ATTEMPTS = 10;

export class UnknownOrderError extends Error {
  constructor(readonly orderId: string) {
    super(`order ${orderId} does not exist`);
    this.name = 'UnknownOrderError';
  }
}

function toOrder(row: OrderRecord): Order {
  return {
    id: row.id,
    status: row.status as OrderStatus,
    style: row.style as MessagingStyle,
    customerId: row.customerId,
    items: row.items,
    totalCents: row.totalCents,
    currency: row.currency,
    shippingAddress: row.shippingAddress,
    ...(row.invoiceId ? { invoiceId: row.invoiceId } : {}),
    ...(row.shipmentId ? { shipmentId: row.shipmentId } : {}),
    ...(row.failureReason ? { failureReason: row.failureReason } : {}),
    ...(row.paymentId ? { paymentId: row.paymentId } : {}),
    ...(row.cancellationReason ? { cancellationReason: row.cancellationReason } : {}),
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
