import type { RunningSystem } from './system';

/** The outcome of the ledger check: every order accounted for in every service, once. */
export interface Ledger {
  orders: number;
  completed: number;
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
 * Checks the order ids against every service's own database: one COMPLETED order, one
 * invoice, one shipment, one count in Statistics (event style only, since Statistics
 * hears only NewOrder). Redeliveries are reported, not failed: at-least-once allows them.
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
  const books: [string, Map<string, number>][] = [
    ['order', completed],
    ['invoicing', invoices],
    ['shipping', shipments],
    ...(counted ? ([['statistics', counted]] as [string, Map<string, number>][]) : []),
  ];
  for (const orderId of orderIds) {
    const missing = books.filter(([, book]) => !book.get(orderId)).map(([service]) => service);
    if (missing.length > 0) lost.push({ orderId, missing });
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
  return { orders: orderIds.length, completed: completed.size, lost, doubled, redeliveries };
}
