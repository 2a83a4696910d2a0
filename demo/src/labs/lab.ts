import { sumOfSamples } from '@app/runtime';

/**
 * What a lab check looks at: the running system's HTTP APIs and /metrics, and each
 * service's database (read only). `make lab N` points it at the system `make up` started;
 * the tests point it at a system of their own.
 */
export interface LabTarget {
  /** Base URL of a service's HTTP API (and /metrics). */
  url(service: string): string;
  /** A read-only query on a service's own database. */
  query<R extends Record<string, unknown>>(
    service: string,
    sql: string,
    values?: unknown[],
  ): Promise<R[]>;
  /** When the lab began (`make lab-reset`): only orders placed since then count. */
  since: Date;
  /** Base URLs of further instances of a service (a second Invoicing on its own port). */
  moreInstances(service: string): string[];
  /** What `git diff --stat <path>` prints in the repository (empty: unchanged). */
  diffStat(path: string): Promise<string>;
}

/** What a check found: each observation, and a hint when the lab is not done yet. */
export interface LabResult {
  passed: boolean;
  /** What the check saw, in the attendee's words, each line ✓ or ✗. */
  seen: { ok: boolean; what: string }[];
  /** The next step when it did not pass. */
  hint?: string;
}

export interface Lab {
  number: number;
  /** The file in docs/workshop/labs/ without `.md`. */
  slug: string;
  title: string;
  check(target: LabTarget): Promise<LabResult>;
}

/**
 * Builds a result from observations: passed when every one holds; the hint of the first
 * that does not.
 */
export function verdict(observations: { ok: boolean; what: string; hint?: string }[]): LabResult {
  const failing = observations.find((o) => !o.ok);
  return {
    passed: failing === undefined,
    seen: observations.map(({ ok, what }) => ({ ok, what })),
    ...(failing?.hint ? { hint: failing.hint } : {}),
  };
}

/** The value of a counter or gauge, summed over the series whose labels match. */
export const metricValue = sumOfSamples;

/** A service's /metrics text, or undefined when it does not answer. */
export async function metricsOf(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(3_000) });
    return response.ok ? await response.text() : undefined;
  } catch {
    return undefined;
  }
}

/** True when the service at `url` answers /health/ready with 200. */
export async function isReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(3_000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

/** An order as the checks read it from Order's database. */
export interface LabOrder extends Record<string, unknown> {
  id: string;
  style: 'event' | 'command';
  status: string;
  created_at: Date;
  updated_at: Date;
  total_cents: number;
}

/** The orders placed since the lab began, oldest first. */
export function ordersSince(target: LabTarget): Promise<LabOrder[]> {
  return target.query<LabOrder>(
    'order',
    `SELECT id::text, style, status, created_at, updated_at, total_cents FROM orders
      WHERE created_at >= $1 ORDER BY created_at`,
    [target.since],
  );
}

/** How many rows of `table` each of `orderIds` has in a service's database, by order id. */
export async function rowsPerOrder(
  target: LabTarget,
  service: string,
  table: string,
  orderIds: string[],
  { where = 'TRUE', timeColumn = 'created_at' }: { where?: string; timeColumn?: string } = {},
): Promise<Map<string, { n: number; firstAt: Date }>> {
  const rows = await target.query<{ order_id: string; n: number; first_at: Date }>(
    service,
    `SELECT order_id::text, count(*)::int AS n, min(${timeColumn}) AS first_at FROM ${table}
      WHERE order_id = ANY($1::uuid[]) AND ${where} GROUP BY order_id`,
    [orderIds],
  );
  return new Map(rows.map((row) => [row.order_id, { n: row.n, firstAt: row.first_at }]));
}

/** "3 orders" / "1 order". */
export const plural = (n: number, word: string): string =>
  `${n} ${n === 1 ? word : word.replace(/([^aeiou])y$/, '$1ie')}${n === 1 ? '' : 's'}`;
