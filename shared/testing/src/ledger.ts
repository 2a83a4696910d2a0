import type { RunningSystem } from './system';
import type { ReceivedMessage } from './test-broker';

/** The outcome of the ledger check: every order accounted for in every service, once. */
export interface Ledger {
  orders: number;
  completed: number;
  /** Orders that ended CANCELLED (their payment was declined). */
  cancelled: number;
  /**
   * Cancelled orders that still have a live invoice (not VOIDED) or shipment (not
   * CANCELLED): compensation that did not happen.
   */
  uncompensated: { orderId: string; service: string }[];
  /** Orders some service never accounted for (no invoice, shipment, count or completion). */
  lost: { orderId: string; missing: string[] }[];
  /**
   * Effects that happened more than once for an order: a second invoice, shipment,
   * payment or count (`what` names it), an outgoing message of one type written to an
   * outbox more than once or seen on the wire under more than one message id
   * (`message <type>` / `wire <type>`), a status entered twice (`status <STATUS>`).
   */
  doubled: { orderId: string; service: string; count: number; what: string }[];
  /**
   * Sums that do not add up, whatever the unique indexes say: Statistics' totals per
   * currency against the orders it counted, each counted order against what Order
   * recorded for it, and each order's status history against the saga's possible steps.
   */
  miscounted: { service: string; what: string; expected: string; actual: string }[];
  /**
   * At-least-once at work, per service: deliveries the broker marked redelivered plus those
   * the inbox recognised as already handled (counted since each process started).
   */
  redeliveries: Record<string, number>;
}

/**
 * Checks the order ids against every service's own database: each order terminal
 * (COMPLETED, or CANCELLED after a declined payment), one payment decision, one invoice,
 * one shipment, one count in Statistics (event style only, since Statistics hears only
 * NewOrder), and a cancelled order with no live invoice or shipment. In the command style a
 * cancelled order needs no invoice or shipment at all. Redeliveries are reported, not
 * failed: at-least-once allows them.
 */
export async function checkLedger(
  system: Pick<RunningSystem, 'databases' | 'services'>,
  orderIds: string[],
  style: 'event' | 'command' = 'event',
  options: LedgerOptions = {},
): Promise<Ledger> {
  const { databases } = system;
  const perOrder = async (
    db: keyof RunningSystem['databases'],
    sql: string,
  ): Promise<Map<string, number>> => {
    const rows = await databases[db].query<{ order_id: string; n: string }>(sql, [orderIds]);
    return new Map(rows.map((row) => [row.order_id, Number(row.n)]));
  };
  const completed = await perOrder(
    'order',
    `SELECT id AS order_id, 1 AS n FROM orders WHERE id = ANY($1::uuid[]) AND status = 'COMPLETED'`,
  );
  const cancelled = await perOrder(
    'order',
    `SELECT id AS order_id, 1 AS n FROM orders WHERE id = ANY($1::uuid[]) AND status = 'CANCELLED'`,
  );
  const payments = databases.payment
    ? await perOrder(
        'payment',
        'SELECT order_id, count(*) AS n FROM payments WHERE order_id = ANY($1::uuid[]) GROUP BY order_id',
      )
    : undefined;
  const liveInvoices = await perOrder(
    'invoicing',
    `SELECT order_id, count(*) AS n FROM invoices WHERE order_id = ANY($1::uuid[])
        AND status <> 'VOIDED' GROUP BY order_id`,
  );
  const liveShipments = await perOrder(
    'shipping',
    `SELECT order_id, count(*) AS n FROM shipments WHERE order_id = ANY($1::uuid[])
        AND status <> 'CANCELLED' GROUP BY order_id`,
  );
  const invoices = await perOrder(
    'invoicing',
    'SELECT order_id, count(*) AS n FROM invoices WHERE order_id = ANY($1::uuid[]) GROUP BY order_id',
  );
  const shipments = await perOrder(
    'shipping',
    'SELECT order_id, count(*) AS n FROM shipments WHERE order_id = ANY($1::uuid[]) GROUP BY order_id',
  );
  const counted =
    style === 'event' && databases.statistics
      ? await perOrder(
          'statistics',
          'SELECT order_id, count(*) AS n FROM counted_orders WHERE order_id = ANY($1::uuid[]) GROUP BY order_id',
        )
      : undefined;
  const lost: Ledger['lost'] = [];
  const doubled: Ledger['doubled'] = [];
  const uncompensated: Ledger['uncompensated'] = [];
  const terminal = new Map([...completed, ...cancelled]);
  const books: [string, Map<string, number>, string][] = [
    ['order', terminal, 'terminal status'],
    ...(payments
      ? ([['payment', payments, 'payment']] as [string, Map<string, number>, string][])
      : []),
    ['invoicing', invoices, 'invoice'],
    ['shipping', shipments, 'shipment'],
    ...(counted
      ? ([['statistics', counted, 'count']] as [string, Map<string, number>, string][])
      : []),
  ];
  // A cancelled order needs no invoice or shipment: in the command style none was ever
  // asked for; in the event style the cancellation may reach Invoicing or Shipping first,
  // and its tombstone then keeps the late NewOrder from creating one.
  const neededBy = (orderId: string, service: string) =>
    !(cancelled.has(orderId) && ['invoicing', 'shipping'].includes(service));
  for (const orderId of orderIds) {
    const missing = books
      .filter(([service, book]) => !book.get(orderId) && neededBy(orderId, service))
      .map(([service]) => service);
    if (missing.length > 0) lost.push({ orderId, missing });
    if (cancelled.has(orderId)) {
      if (liveInvoices.get(orderId)) uncompensated.push({ orderId, service: 'invoicing' });
      if (liveShipments.get(orderId)) uncompensated.push({ orderId, service: 'shipping' });
    }
    for (const [service, book, what] of books) {
      const count = book.get(orderId) ?? 0;
      if (count > 1) doubled.push({ orderId, service, count, what });
    }
  }
  doubled.push(...(await outboxDoubles(system, orderIds)));
  if (options.wire) doubled.push(...wireDoubles(options.wire, orderIds));
  const history = await statusHistoryProblems(system, orderIds);
  doubled.push(...history.doubled);
  const miscounted = [...history.miscounted, ...(await statisticsMiscounts(system, orderIds))];
  const redeliveries: Record<string, number> = {};
  for (const [service, process] of Object.entries(system.services)) {
    const metrics = await fetch(`${process.url}/metrics`)
      .then((r) => r.text())
      .catch(() => '');
    redeliveries[service] = [
      ...metrics.matchAll(/^messages_consumed_total\{[^}]*outcome="duplicate"[^}]*\} (\d+)/gm),
      ...metrics.matchAll(/^messages_redelivered_total\{[^}]*\} (\d+)/gm),
    ]
      .map((match) => Number(match[1]))
      .reduce((sum, n) => sum + n, 0);
  }
  return {
    orders: orderIds.length,
    completed: completed.size,
    cancelled: cancelled.size,
    uncompensated,
    lost,
    doubled,
    miscounted,
    redeliveries,
  };
}

export interface LedgerOptions {
  /**
   * Every message seen on the wire while the orders flowed (a spy queue bound to every
   * exchange, `TestBroker.spyOnEverything`): a message type sent for one order under more
   * than one message id is a double, even when every receiver absorbed it.
   */
  wire?: readonly ReceivedMessage[];
}

type Databases = Pick<RunningSystem, 'databases'>;

/**
 * Each service's outbox, per order and message type: a second row is a second message
 * written by a handler that ran its effect twice (the relay republishing a row is not: it
 * keeps one row and one message id).
 */
async function outboxDoubles(system: Databases, orderIds: string[]): Promise<Ledger['doubled']> {
  const doubled: Ledger['doubled'] = [];
  for (const [service, db] of Object.entries(system.databases)) {
    if (!db) continue;
    const [outbox] = await db.query<{ exists: boolean }>(
      `SELECT to_regclass('outbox_messages') IS NOT NULL AS exists`,
    );
    // A service that sends nothing (Statistics) has no outbox.
    if (!outbox?.exists) continue;
    const rows = await db.query<{ order_id: string; type: string; n: string }>(
      `SELECT payload->>'orderId' AS order_id, type, count(*) AS n FROM outbox_messages
        WHERE payload->>'orderId' = ANY($1::text[]) GROUP BY 1, 2 HAVING count(*) > 1`,
      [orderIds],
    );
    for (const row of rows) {
      doubled.push({
        orderId: row.order_id,
        service,
        count: Number(row.n),
        what: `message ${row.type}`,
      });
    }
  }
  return doubled;
}

/** Per order and message type, the distinct message ids seen on the wire. */
function wireDoubles(wire: readonly ReceivedMessage[], orderIds: string[]): Ledger['doubled'] {
  const wanted = new Set(orderIds);
  const ids = new Map<string, { sender: string; messageIds: Set<string> }>();
  for (const message of wire) {
    const orderId = (message.body as { orderId?: unknown } | undefined)?.orderId;
    if (typeof orderId !== 'string' || !wanted.has(orderId)) continue;
    const key = `${orderId} ${message.type}`;
    const entry = ids.get(key) ?? {
      sender: String(message.raw.properties.appId ?? 'unknown'),
      messageIds: new Set<string>(),
    };
    entry.messageIds.add(String(message.raw.properties.messageId));
    ids.set(key, entry);
  }
  return [...ids]
    .filter(([, { messageIds }]) => messageIds.size > 1)
    .map(([key, { sender, messageIds }]) => {
      const [orderId = '', type = ''] = key.split(' ');
      return { orderId, service: sender, count: messageIds.size, what: `wire ${type}` };
    });
}

/**
 * The saga's possible steps, written out here independently of Order's code: each status
 * is what Order knows (payment, invoice, shipment), and each message adds one fact or ends
 * the order. A history must start at PLACED, take only these steps and end terminal.
 */
const NEXT_STATUSES: Record<string, readonly string[]> = {
  PLACED: ['AUTHORIZED', 'INVOICED', 'SHIPPED', 'CANCELLED', 'FAILED'],
  AUTHORIZED: ['INVOICED', 'SHIPPED', 'CANCELLED', 'FAILED'],
  INVOICED: ['AWAITING_PAYMENT', 'COMPLETED', 'CANCELLED', 'FAILED'],
  SHIPPED: ['AWAITING_PAYMENT', 'COMPLETED', 'CANCELLED', 'FAILED'],
  AWAITING_PAYMENT: ['COMPLETED', 'CANCELLED', 'FAILED'],
  COMPLETED: [],
  CANCELLED: [],
  FAILED: [],
};

async function statusHistoryProblems(
  system: Databases,
  orderIds: string[],
): Promise<{ doubled: Ledger['doubled']; miscounted: Ledger['miscounted'] }> {
  const rows = await system.databases.order.query<{ order_id: string; statuses: string[] }>(
    `SELECT order_id, array_agg(status ORDER BY id) AS statuses FROM order_status_changes
      WHERE order_id = ANY($1::uuid[]) GROUP BY order_id`,
    [orderIds],
  );
  const doubled: Ledger['doubled'] = [];
  const miscounted: Ledger['miscounted'] = [];
  for (const { order_id: orderId, statuses } of rows) {
    const seen = new Map<string, number>();
    for (const status of statuses) seen.set(status, (seen.get(status) ?? 0) + 1);
    for (const [status, count] of seen) {
      if (count > 1) doubled.push({ orderId, service: 'order', count, what: `status ${status}` });
    }
    const steps = statuses.slice(1).map((status, i) => [statuses[i]!, status] as const);
    const invalid = steps.find(([from, to]) => !NEXT_STATUSES[from]?.includes(to));
    if (statuses[0] !== 'PLACED' || invalid) {
      miscounted.push({
        service: 'order',
        what: `status history of ${orderId}`,
        expected: 'PLACED, then one step per fact, ending terminal',
        actual: statuses.join(' -> '),
      });
    }
  }
  return { doubled, miscounted };
}

/**
 * Statistics' totals against what they should add up to: per currency, `orders` is the
 * number of counted orders, `cancelled_orders` those of them cancelled, revenue and items
 * the sums over the others; and every counted order carries the total and the items that
 * Order recorded for it. Unique indexes cap rows, not sums: a handler that added an order
 * to the totals twice shows here.
 */
async function statisticsMiscounts(
  system: Databases,
  orderIds: string[],
): Promise<Ledger['miscounted']> {
  const statistics = system.databases.statistics;
  if (!statistics) return [];
  const miscounted: Ledger['miscounted'] = [];
  const totals = await statistics.query<Record<string, string>>(
    `SELECT t.currency,
            t.orders::text, t.cancelled_orders::text, t.revenue_cents::text, t.items_sold::text,
            count(c.order_id)::text AS expected_orders,
            count(x.order_id)::text AS expected_cancelled_orders,
            coalesce(sum(c.revenue_cents) FILTER (WHERE x.order_id IS NULL), 0)::text AS expected_revenue_cents,
            coalesce(sum(c.items_sold) FILTER (WHERE x.order_id IS NULL), 0)::text AS expected_items_sold
       FROM currency_totals t
       LEFT JOIN counted_orders c ON c.currency = t.currency
       LEFT JOIN cancelled_orders x ON x.order_id = c.order_id
      GROUP BY t.currency, t.orders, t.cancelled_orders, t.revenue_cents, t.items_sold`,
  );
  for (const row of totals) {
    for (const field of ['orders', 'cancelled_orders', 'revenue_cents', 'items_sold']) {
      if (row[field] !== row[`expected_${field}`]) {
        miscounted.push({
          service: 'statistics',
          what: `currency_totals ${row.currency} ${field}`,
          expected: String(row[`expected_${field}`]),
          actual: String(row[field]),
        });
      }
    }
  }
  const recorded = await system.databases.order.query<{
    id: string;
    total_cents: number;
    items: string;
  }>(
    `SELECT o.id, o.total_cents, sum(i.quantity)::text AS items FROM orders o
       JOIN order_items i ON i.order_id = o.id
      WHERE o.id = ANY($1::uuid[]) GROUP BY o.id, o.total_cents`,
    [orderIds],
  );
  const counted = new Map(
    (
      await statistics.query<{ order_id: string; revenue_cents: string; items_sold: string }>(
        `SELECT order_id, revenue_cents::text, items_sold::text FROM counted_orders
          WHERE order_id = ANY($1::uuid[])`,
        [orderIds],
      )
    ).map((row) => [row.order_id, row]),
  );
  for (const order of recorded) {
    const row = counted.get(order.id);
    if (!row) continue;
    const expected = `${order.total_cents} cents, ${order.items} items`;
    const actual = `${row.revenue_cents} cents, ${row.items_sold} items`;
    if (expected !== actual) {
      miscounted.push({
        service: 'statistics',
        what: `counted order ${order.id}`,
        expected,
        actual,
      });
    }
  }
  return miscounted;
}
