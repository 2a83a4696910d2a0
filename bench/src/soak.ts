import { readFileSync } from 'node:fs';
import { ServiceNames, type ServiceName } from '@app/contracts';
import {
  anOrderRequest,
  checkLedger,
  startSystem,
  type Ledger,
  type RunningSystem,
  type Servers,
} from '@app/testing';
import { placeAtRate, type PlacedOrder } from './load';
import { percentile } from './stats';
import { waitForCompletion } from './timestamps';

export type Style = 'event' | 'command';
const STYLES: readonly Style[] = ['event', 'command'];

export interface SoakOptions {
  /** How long orders are placed. */
  seconds: number;
  /** Orders per second, both styles together (half each). */
  rate: number;
  /** Length of one sample: a point on each line of the chart. */
  sampleSeconds: number;
  /** The services' retention settings, short so that cleanup runs many times. */
  retentionEnv: Record<string, string>;
  servers?: Servers;
  /** Runs on the system after the load and the ledger, before it is torn down. */
  afterLoad?: (system: RunningSystem) => Promise<void>;
  say?: (line: string) => void;
}

/** The short windows of a soak: every row type is removed many times over in a run. */
export const SOAK_RETENTION_ENV: Record<string, string> = {
  OUTBOX_RETENTION: '15s',
  INBOX_RETENTION: '30s',
  IDEMPOTENCY_KEY_RETENTION: '30s',
  RETENTION_INTERVAL_MS: '5000',
  RETENTION_BATCH: '500',
};

/** One table of one service at a sample point. */
export interface TableSample {
  service: ServiceName;
  table: 'outbox_messages' | 'inbox_messages';
  rows: number;
  bytes: number;
}

export interface SoakSample {
  /** Seconds since the load began, at the end of the sample. */
  at: number;
  placedPerSecond: number;
  /** Orders that reached COMPLETED or CANCELLED during the sample, per second. */
  finishedPerSecond: number;
  /** POST sent -> COMPLETED of the orders placed in the previous sample, ms. */
  endToEndP99Ms: number | undefined;
  endToEndP50Ms: number | undefined;
  failures: number;
  tables: TableSample[];
  rssMiB: Partial<Record<ServiceName, number>>;
}

export interface SoakResult {
  startedAt: string;
  options: Omit<SoakOptions, 'say' | 'servers' | 'afterLoad'>;
  samples: SoakSample[];
  placed: Record<Style, number>;
  /**
   * Whether the server's autovacuum was on. When it is off (a CI configuration), the runner
   * vacuums the outbox and inbox at every sample in its place, or dead rows would pile up
   * and the size lines would show the missing vacuum, not retention.
   */
  autovacuum: 'on' | 'off, vacuumed by the runner';
  /** Orders still open when the final wait ended. */
  open: number;
  ledgers: Record<Style, Ledger>;
  /** retention_rows_removed_total of each service's /metrics at the end, by table. */
  removed: Partial<Record<ServiceName, Record<string, number>>>;
}

/**
 * A steady load in both styles for `seconds`, sampled every `sampleSeconds`: placed and
 * finished orders per second, end-to-end p99, outbox and inbox sizes, each service's RSS.
 * Ends with the full ledger of every order. The system is its own (`test_soak_*`), dropped
 * after the run.
 */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const say = options.say ?? (() => undefined);
  const system = await startSystem({
    label: 'soak',
    servers: options.servers,
    faultSwitches: false,
    env: { NODE_ENV: 'test', LOG_LEVEL: 'warn', ...options.retentionEnv },
    readyTimeoutMs: 60_000,
  });
  try {
    const result = await soak(system, options, say);
    await options.afterLoad?.(system);
    return result;
  } finally {
    await system.teardown();
  }
}

async function soak(
  system: RunningSystem,
  options: SoakOptions,
  say: (line: string) => void,
): Promise<SoakResult> {
  const startedAt = new Date().toISOString();
  const orderUrl = system.url('order');
  const bodies = Object.fromEntries(
    STYLES.map((style) => [style, JSON.stringify(anOrderRequest({ style }))]),
  ) as Record<Style, string>;
  const ids: Record<Style, string[]> = { event: [], command: [] };
  const samples: SoakSample[] = [];
  const [setting] = await system.databases.order.query<{ autovacuum: string }>('SHOW autovacuum');
  const vacuum = setting?.autovacuum !== 'on';
  if (vacuum)
    say('  autovacuum is off on this server: the runner vacuums the tables at each sample');
  const began = Date.now();
  let previous: PlacedOrder[] = [];
  for (;;) {
    const from = Date.now();
    const seconds = Math.min(options.sampleSeconds, options.seconds - (from - began) / 1000);
    if (seconds < 1) break;
    const runs = await Promise.all(
      STYLES.map((style) => placeAtRate(orderUrl, bodies[style], options.rate / 2, seconds)),
    );
    const to = Date.now();
    STYLES.forEach((style, i) => ids[style].push(...runs[i]!.orders.map((o) => o.id)));
    const latencies = await endToEndMs(system, previous);
    previous = runs.flatMap((run) => run.orders);
    const sample: SoakSample = {
      at: Math.round((to - began) / 1000),
      placedPerSecond: (previous.length * 1000) / (to - from),
      finishedPerSecond: ((await finishedBetween(system, from, to)) * 1000) / (to - from),
      endToEndP99Ms: percentile(latencies, 99),
      endToEndP50Ms: percentile(latencies, 50),
      failures: runs.reduce((sum, run) => sum + run.failures, 0),
      tables: await tableSizes(system, vacuum),
      rssMiB: rssOf(system),
    };
    samples.push(sample);
    say(sampleLine(sample));
  }
  const { open } = await waitForCompletion(system.databases.order, began - 1_000, 120_000);
  const ledgers = {} as Record<Style, Ledger>;
  for (const style of STYLES) ledgers[style] = await checkLedger(system, ids[style], style);
  return {
    startedAt,
    options: {
      seconds: options.seconds,
      rate: options.rate,
      sampleSeconds: options.sampleSeconds,
      retentionEnv: options.retentionEnv,
    },
    samples,
    autovacuum: vacuum ? 'off, vacuumed by the runner' : 'on',
    placed: { event: ids.event.length, command: ids.command.length },
    open,
    ledgers,
    removed: await removedRows(system),
  };
}

export function sampleLine(sample: SoakSample): string {
  const rows = (table: TableSample['table']): number =>
    sample.tables.filter((t) => t.table === table).reduce((sum, t) => sum + t.rows, 0);
  const rss = Object.entries(sample.rssMiB)
    .map(([service, mib]) => `${service} ${Math.round(mib)}`)
    .join(', ');
  return (
    `  ${String(sample.at).padStart(5)} s: ${sample.placedPerSecond.toFixed(0)} placed/s, ` +
    `${sample.finishedPerSecond.toFixed(0)} finished/s, p99 ${sample.endToEndP99Ms?.toFixed(0) ?? '-'} ms, ` +
    `outbox ${rows('outbox_messages')} rows, inbox ${rows('inbox_messages')} rows, RSS MiB: ${rss}` +
    (sample.failures > 0 ? `, ${sample.failures} failed requests` : '')
  );
}

const epochMs = (column: string): string => `(extract(epoch FROM ${column}) * 1000)::float8`;

async function endToEndMs(system: RunningSystem, orders: PlacedOrder[]): Promise<number[]> {
  if (orders.length === 0) return [];
  const sentAt = new Map(orders.map((o) => [o.id, o.sentAt]));
  const rows = await system.databases.order.query<{ id: string; updated: number }>(
    `SELECT id::text, ${epochMs('updated_at')} AS updated FROM orders
      WHERE id = ANY($1::uuid[]) AND status = 'COMPLETED'`,
    [[...sentAt.keys()]],
  );
  return rows.map((row) => row.updated - sentAt.get(row.id)!).sort((a, b) => a - b);
}

async function finishedBetween(system: RunningSystem, from: number, to: number): Promise<number> {
  const [row] = await system.databases.order.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM orders WHERE status IN ('COMPLETED', 'CANCELLED')
        AND updated_at >= to_timestamp($1::float8 / 1000) AND updated_at < to_timestamp($2::float8 / 1000)`,
    [from, to],
  );
  return row?.n ?? 0;
}

async function tableSizes(system: RunningSystem, vacuum: boolean): Promise<TableSample[]> {
  const samples: TableSample[] = [];
  for (const service of ServiceNames) {
    const tables =
      service === 'statistics'
        ? (['inbox_messages'] as const)
        : (['outbox_messages', 'inbox_messages'] as const);
    for (const table of tables) {
      if (vacuum) await system.databases[service].query(`VACUUM ${table}`);
      const [row] = await system.databases[service].query<{ rows: number; bytes: string }>(
        `SELECT count(*)::int AS rows, pg_total_relation_size('${table}')::text AS bytes FROM ${table}`,
      );
      samples.push({ service, table, rows: row?.rows ?? 0, bytes: Number(row?.bytes ?? 0) });
    }
  }
  return samples;
}

/** Resident memory of each service process, from /proc (Linux). */
function rssOf(system: RunningSystem): Partial<Record<ServiceName, number>> {
  const rss: Partial<Record<ServiceName, number>> = {};
  for (const service of ServiceNames) {
    const pid = system.services[service].pid;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kib = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
      if (kib) rss[service] = Number(kib) / 1024;
    } catch {
      // Not Linux, or the process is gone: the chart leaves the point out.
    }
  }
  return rss;
}

async function removedRows(
  system: RunningSystem,
): Promise<Partial<Record<ServiceName, Record<string, number>>>> {
  const removed: Partial<Record<ServiceName, Record<string, number>>> = {};
  for (const service of ServiceNames) {
    const text = await fetch(new URL('/metrics', system.url(service))).then((r) => r.text());
    const counts: Record<string, number> = {};
    for (const match of text.matchAll(/^retention_rows_removed_total\{table="(\w+)"\} (\d+)/gm)) {
      counts[match[1]!] = Number(match[2]);
    }
    removed[service] = counts;
  }
  return removed;
}
