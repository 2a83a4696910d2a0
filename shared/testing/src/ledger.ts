import type { RunningSystem } from './system';

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
  /** Orders with more than one invoice, shipment or count. */
  doubled: { orderId: string; service: string; count: number }[];
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
  const books: [string, Map<string, number>][] = [
    ['order', terminal],
    ...(payments ? ([['payment', payments]] as [string, Map<string, number>][]) : []),
    ['invoicing', invoices],
    ['shipping', shipments],
    ...(counted ? ([['statistics', counted]] as [string, Map<string, number>][]) : []),
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
    for (const [service, book] of books) {
      const count = book.get(orderId) ?? 0;
      if (count > 1) doubled.push({ orderId, service, count });
    }
  }
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
    redeliveries,
  };
}
