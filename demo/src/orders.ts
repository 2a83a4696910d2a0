import { anOrderRequest, request, type RunningSystem } from '@app/testing';

export type Style = 'event' | 'command';

/**
 * Places `count` orders through `POST /orders`, `concurrency` requests at a time, and
 * returns their ids in the order they were accepted. `onPlaced` reports progress.
 */
export async function placeOrders(
  orderUrl: string,
  count: number,
  options: {
    style?: Style;
    /** A test token (`tok_visa`, `tok_declined`, ...); the service's default when left out. */
    cardToken?: string;
    concurrency?: number;
    onPlaced?: (id: string, placed: number) => void;
  } = {},
): Promise<string[]> {
  const { style = 'event', cardToken, concurrency = 16, onPlaced } = options;
  const payment = cardToken === undefined ? {} : { payment: { cardToken } };
  const ids: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      const response = await request(`${orderUrl}/orders`, {
        body: anOrderRequest({ style, ...payment }),
      });
      if (response.status !== 202) {
        throw new Error(
          `POST /orders answered ${response.status}: ${JSON.stringify(response.body)}`,
        );
      }
      const id = String(response.body.id);
      ids.push(id);
      onPlaced?.(id, ids.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return ids;
}

/** How many of the orders a service's own table accounts for, and with how many rows. */
export interface Tally {
  /** Distinct orders with at least one row. */
  orders: number;
  /** Rows in all: more than `orders` would mean something was done twice. */
  rows: number;
}

const TALLIES = {
  invoices: ['invoicing', 'invoices'],
  shipments: ['shipping', 'shipments'],
  counted: ['statistics', 'counted_orders'],
} as const;

/** Reads each service's own database (as the demo's admin user) to account for orders. */
export class Books {
  constructor(private readonly system: Pick<RunningSystem, 'databases'>) {}

  async tally(kind: keyof typeof TALLIES, orderIds: string[]): Promise<Tally> {
    const [service, table] = TALLIES[kind];
    const [row] = await this.system.databases[service].query<{ orders: number; rows: number }>(
      `SELECT count(DISTINCT order_id)::int AS orders, count(*)::int AS rows
         FROM ${table} WHERE order_id = ANY($1::uuid[])`,
      [orderIds],
    );
    return row ?? { orders: 0, rows: 0 };
  }

  /** Orders by status, e.g. `{ COMPLETED: 98, INVOICED: 2 }`. */
  async statuses(orderIds: string[]): Promise<Record<string, number>> {
    const rows = await this.system.databases.order.query<{ status: string; n: number }>(
      `SELECT status::text AS status, count(*)::int AS n FROM orders
        WHERE id = ANY($1::uuid[]) GROUP BY status`,
      [orderIds],
    );
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  }

  async completed(orderIds: string[]): Promise<number> {
    return (await this.statuses(orderIds)).COMPLETED ?? 0;
  }
}

/** `98 COMPLETED, 2 INVOICED` */
export const formatStatuses = (statuses: Record<string, number>): string =>
  Object.entries(statuses)
    .sort(([, a], [, b]) => b - a)
    .map(([status, n]) => `${n} ${status}`)
    .join(', ') || 'none';
