import os from 'node:os';
import path from 'node:path';
import { ServiceNames, type ServiceName } from '@app/contracts';
import { checkLedger, startSystem, waitFor, type Ledger, type RunningSystem } from '@app/testing';
import { errorLines, rabbitmqctl } from '../faults/support';
import { ChaosDriver, DEFAULT_TIMING, type FaultRecord, type FaultTiming } from './faults';
import { OrderLoad, STYLES, planOrders, type LoadResult, type Style } from './load';
import type { SeededRandom } from './random';

export interface ChaosOptions {
  orders: number;
  /** Orders placed per second; with the gaps between faults it sets how many faults a run sees. */
  rate: number;
  /** Faults injected at least, even when the load ends first (messages still flow then). */
  minFaults: number;
  random: SeededRandom;
  timing?: FaultTiming;
  /** How long, after the load and the last fault, every order may take to end. */
  settleTimeoutMs: number;
  /**
   * When the run is not clean, each process's log is written to `<reportsDir>/<report
   * name>-logs/` (to the system's temporary folder without one).
   */
  reportsDir?: string;
  say?: (line: string) => void;
}

export interface UnfinishedOrder {
  orderId: string;
  style: Style;
  status: string;
  /** The services whose books lack it, by the ledger. */
  missing: string[];
  /** Outbox rows whose payload names the order: `<service> <type> sent|UNSENT (attempts, last error)`. */
  outbox: string[];
}

export interface ChaosResult {
  seed: number;
  startedAt: string;
  options: Pick<ChaosOptions, 'orders' | 'rate' | 'minFaults'> & { timing: FaultTiming };
  timeline: FaultRecord[];
  load: Omit<LoadResult, 'accepted' | 'refused'> & {
    accepted: number;
    refused: { index: number; last: string }[];
    /** Orders that needed more than one POST, and the most POSTs one order needed. */
    retriedOrders: number;
    maxAttempts: number;
  };
  /** Planned orders Order's database holds more than once: a retried POST that was not replayed. */
  duplicateOrders: { customerId: string; ids: string[] }[];
  /** Orders whose last status is not the one their card decides (COMPLETED for tok_visa, CANCELLED for tok_declined). */
  unexpected: { orderId: string; expected: string; status: string }[];
  /** Orders not COMPLETED, CANCELLED or FAILED when the settle timeout ended. */
  open: number;
  /** Whether every queue (but the dead-letter ones) and every outbox was empty before the ledger was read. */
  idle: boolean;
  ledgers: Record<Style, Ledger>;
  /**
   * For up to 20 orders not finished (open, lost or in an unexpected status): the order's
   * status and every outbox row about it in each service, so a finding can be traced.
   */
  unfinished: UnfinishedOrder[];
  /** Where the processes' logs were written when the run was not clean. */
  logsFolder?: string;
  /**
   * Order's first error log lines (every process, killed ones too), cut to 500 characters:
   * what lay behind the 500s and 503s the load was answered.
   */
  orderErrors: string[];
  /** Messages parked in `<queue>.dead` at the end, by queue (none expected). */
  deadLetters: Record<string, number>;
  /** Load: from the first order until the load and the faults ended; total: start-up to ledger. */
  durationMs: { load: number; settle: number; total: number };
}

/**
 * The chaos run: `orders` orders, half in each style, against all five services while a
 * driver injects a fault every few seconds (SIGKILL and restart, broker connections closed,
 * Postgres cut), then the full ledger of every order once the system is idle.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const say = options.say ?? (() => undefined);
  const timing = options.timing ?? DEFAULT_TIMING;
  const startedAt = new Date().toISOString();
  const began = Date.now();
  const planned = planOrders(options.orders, options.random);
  // No services from startSystem: the driver starts each through its database proxy.
  const system = await startSystem({ label: 'chaos', services: [], readyTimeoutMs: 60_000 });
  let driver: ChaosDriver | undefined;
  try {
    driver = await ChaosDriver.start(system, ServiceNames, options.random, timing);
    say(`  system ${system.name} up; placing ${options.orders} orders at ${options.rate}/s`);
    const load = new OrderLoad(system.url('order'), planned, {
      rate: options.rate,
      concurrency: 20,
      orderDeadlineMs: 120_000,
    });
    const loadBegan = Date.now();
    let loading = true;
    const placing = load.run().finally(() => {
      loading = false;
    });
    const faults = driver.run(
      () => loading || driver!.timeline.length < options.minFaults,
      () => load.answered(),
      (fault) => say(`  ${faultLine(fault)}  (accepted ${load.answered()}/${options.orders})`),
    );
    const [placed] = await Promise.all([placing, faults]);
    const loadEnded = Date.now();
    await driver.restoreAll();
    say(
      `  load and faults done after ${seconds(loadEnded - loadBegan)}; waiting for every order to end`,
    );

    const orderIds = placed.accepted.map((a) => a.id);
    const open = await settle(system, orderIds, options.settleTimeoutMs);
    const idle = await idleEverywhere(system, driver.services, options.settleTimeoutMs);
    const ledgers = {} as Record<Style, Ledger>;
    for (const style of STYLES) {
      const ids = placed.accepted.filter((a) => a.order.style === style).map((a) => a.id);
      ledgers[style] = await checkLedger(system, ids, style);
    }
    const result: ChaosResult = {
      seed: options.random.seed,
      startedAt,
      options: { orders: options.orders, rate: options.rate, minFaults: options.minFaults, timing },
      timeline: driver.timeline,
      load: {
        accepted: placed.accepted.length,
        refused: placed.refused.map((r) => ({ index: r.order.index, last: r.last })),
        retriedAnswers: placed.retriedAnswers,
        firstAnswers: placed.firstAnswers,
        retriedOrders: placed.accepted.filter((a) => a.attempts > 1).length,
        maxAttempts: Math.max(0, ...placed.accepted.map((a) => a.attempts)),
        durationMs: placed.durationMs,
      },
      duplicateOrders: await duplicateOrders(
        system,
        planned.map((o) => o.customerId),
      ),
      unexpected: await unexpectedStatuses(system, placed),
      unfinished: [],
      open,
      idle,
      ledgers,
      deadLetters: await deadLetters(system),
      orderErrors: system.processes
        .filter((process) => process.service === 'order')
        .flatMap((process) => errorLines(process, 5))
        .slice(0, 8)
        .map((line) => line.slice(0, 500)),
      durationMs: {
        load: loadEnded - loadBegan,
        settle: Date.now() - loadEnded,
        total: Date.now() - began,
      },
    };
    if (!isClean(result)) {
      result.unfinished = await unfinishedOrders(system, result, placed);
      result.logsFolder = path.join(
        options.reportsDir ?? os.tmpdir(),
        `${chaosReportName(result)}-logs`,
      );
      await system.writeLogs(result.logsFolder);
    }
    return result;
  } finally {
    await system.teardown();
    await driver?.close();
  }
}

/** True when nothing was lost, doubled, refused, left open or left uncompensated, and every fault recovered. */
export function isClean(result: ChaosResult): boolean {
  return problems(result).length === 0;
}

/** What is wrong with a run, one line each; empty for a clean run. */
export function problems(result: ChaosResult): string[] {
  const found: string[] = [];
  if (result.load.refused.length > 0)
    found.push(`${result.load.refused.length} orders never accepted`);
  if (result.duplicateOrders.length > 0)
    found.push(`${result.duplicateOrders.length} orders created twice by a retried POST`);
  if (result.open > 0) found.push(`${result.open} orders not terminal`);
  if (result.unexpected.length > 0)
    found.push(`${result.unexpected.length} orders ended in an unexpected status`);
  for (const style of STYLES) {
    for (const [name, entries] of ledgerFindings(result.ledgers[style])) {
      found.push(`${style}: ${entries.length} ${name}`);
    }
  }
  const failed = result.timeline.filter((fault) => fault.error);
  if (failed.length > 0) found.push(`${failed.length} faults did not recover`);
  const parked = Object.values(result.deadLetters).reduce((sum, n) => sum + n, 0);
  if (parked > 0) found.push(`${parked} messages dead-lettered`);
  return found;
}

/**
 * The ledger's non-empty lists (lost, doubled, uncompensated and whatever else it learns to
 * count): each entry of each is a finding.
 */
export function ledgerFindings(ledger: Ledger): [string, unknown[]][] {
  return Object.entries(ledger).filter(
    (entry): entry is [string, unknown[]] => Array.isArray(entry[1]) && entry[1].length > 0,
  );
}

export function faultLine(fault: FaultRecord): string {
  return [
    `#${String(fault.n).padStart(2)}`,
    `${seconds(fault.atMs).padStart(7)}`,
    fault.kind.padEnd(17),
    (fault.kind === 'close-connections' ? 'all' : fault.targets.join(',')).padEnd(30),
    `held ${seconds(fault.heldMs).padStart(6)}`,
    `recovered ${seconds(fault.recoveryMs).padStart(6)}`,
    fault.error ? `ERROR ${fault.error}` : fault.detail,
  ].join('  ');
}

/** `chaos-2026-11-29T07-30-00`: sortable, and safe in every file system. */
export const chaosReportName = (result: Pick<ChaosResult, 'startedAt'>): string =>
  `chaos-${result.startedAt.slice(0, 19).replace(/:/g, '-')}`;

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

async function settle(system: RunningSystem, orderIds: string[], timeoutMs: number) {
  const openOrders = async (): Promise<number> => {
    const [row] = await system.databases.order.query<{ n: string }>(
      `SELECT count(*) AS n FROM orders WHERE id = ANY($1::uuid[])
          AND status IN ('COMPLETED', 'CANCELLED', 'FAILED')`,
      [orderIds],
    );
    return orderIds.length - Number(row?.n ?? 0);
  };
  // A timeout is a finding, not a crash of the run: the report still gets the ledger.
  await waitFor('every order to end', async () => (await openOrders()) === 0, {
    timeoutMs,
    intervalMs: 500,
  }).catch(() => undefined);
  return openOrders();
}

/**
 * Waits until nothing is left to deliver: every queue but the dead-letter ones empty (ready
 * and unacknowledged) and every outbox sent, so the ledger counts the final books, not a
 * snapshot with duplicates still on their way.
 */
async function idleEverywhere(
  system: RunningSystem,
  services: readonly ServiceName[],
  timeoutMs: number,
): Promise<boolean> {
  return waitFor(
    'every queue and outbox to be empty',
    async () => {
      const busy = Object.entries(await queueDepths(system)).some(
        ([queue, messages]) => !queue.endsWith('.dead') && messages > 0,
      );
      if (busy) return false;
      for (const service of services) {
        const [row] = await system.databases[service]
          .query<{ n: string }>('SELECT count(*) AS n FROM outbox_messages WHERE sent_at IS NULL')
          .catch(() => [{ n: '0' }]); // Statistics publishes nothing and has no outbox.
        if (Number(row?.n) > 0) return false;
      }
      return true;
    },
    { timeoutMs, intervalMs: 500 },
  ).catch(() => false);
}

/**
 * Messages in each queue of the system's vhost (ready and unacknowledged together); streams
 * (Order's event history) keep what they hold by design and are left out.
 */
async function queueDepths(system: RunningSystem): Promise<Record<string, number>> {
  const out = await rabbitmqctl(
    'list_queues',
    '-p',
    system.vhost.name,
    '--no-table-headers',
    'name',
    'messages',
    'type',
  );
  return Object.fromEntries(
    out
      .split('\n')
      .map((line) => line.split('\t'))
      .filter(([queue, messages, type]) => queue && messages !== undefined && type !== 'stream')
      .map(([queue, messages]) => [queue, Number(messages)]),
  );
}

async function deadLetters(system: RunningSystem): Promise<Record<string, number>> {
  return Object.fromEntries(
    Object.entries(await queueDepths(system)).filter(
      ([queue, messages]) => queue.endsWith('.dead') && messages > 0,
    ),
  );
}

async function duplicateOrders(
  system: RunningSystem,
  customerIds: string[],
): Promise<ChaosResult['duplicateOrders']> {
  const rows = await system.databases.order.query<{ customer_id: string; ids: string[] }>(
    `SELECT customer_id, array_agg(id::text) AS ids FROM orders
      WHERE customer_id = ANY($1::text[]) GROUP BY customer_id HAVING count(*) > 1`,
    [customerIds],
  );
  return rows.map((row) => ({ customerId: row.customer_id, ids: row.ids }));
}

async function unexpectedStatuses(
  system: RunningSystem,
  placed: LoadResult,
): Promise<ChaosResult['unexpected']> {
  const rows = await system.databases.order.query<{ id: string; status: string }>(
    'SELECT id::text, status FROM orders WHERE id = ANY($1::uuid[])',
    [placed.accepted.map((a) => a.id)],
  );
  const status = new Map(rows.map((row) => [row.id, row.status]));
  return placed.accepted
    .filter((a) => status.get(a.id) !== a.order.expected)
    .map((a) => ({
      orderId: a.id,
      expected: a.order.expected,
      status: status.get(a.id) ?? 'missing',
    }));
}

async function unfinishedOrders(
  system: RunningSystem,
  result: ChaosResult,
  placed: LoadResult,
): Promise<UnfinishedOrder[]> {
  const styleOf = new Map(placed.accepted.map((a) => [a.id, a.order.style]));
  const missing = new Map<string, string[]>();
  for (const style of STYLES) {
    for (const lost of result.ledgers[style].lost) missing.set(lost.orderId, lost.missing);
  }
  const statuses = await system.databases.order.query<{ id: string; status: string }>(
    `SELECT id::text, status FROM orders WHERE id = ANY($1::uuid[])`,
    [placed.accepted.map((a) => a.id)],
  );
  const ids = [
    ...new Set([
      ...statuses
        .filter((row) => !['COMPLETED', 'CANCELLED', 'FAILED'].includes(row.status))
        .map((row) => row.id),
      ...missing.keys(),
      ...result.unexpected.map((u) => u.orderId),
    ]),
  ].slice(0, 20);
  const outbox = new Map<string, string[]>();
  for (const service of Object.keys(system.databases) as ServiceName[]) {
    const rows = await system.databases[service]
      .query<{
        order_id: string;
        type: string;
        sent: boolean;
        attempts: number;
        error: string | null;
      }>(
        `SELECT payload->>'orderId' AS order_id, type, sent_at IS NOT NULL AS sent, attempts,
                last_error AS error
           FROM outbox_messages WHERE payload->>'orderId' = ANY($1::text[]) ORDER BY id`,
        [ids],
      )
      .catch(() => []);
    for (const row of rows) {
      const line = `${service} ${row.type} ${row.sent ? 'sent' : 'UNSENT'} (${row.attempts} attempts${row.error ? `, ${row.error}` : ''})`;
      outbox.set(row.order_id, [...(outbox.get(row.order_id) ?? []), line]);
    }
  }
  const status = new Map(statuses.map((row) => [row.id, row.status]));
  return ids.map((orderId) => ({
    orderId,
    style: styleOf.get(orderId) ?? 'event',
    status: status.get(orderId) ?? 'missing',
    missing: missing.get(orderId) ?? [],
    outbox: outbox.get(orderId) ?? [],
  }));
}

/** How often each kind of fault hit each service, for the summary. */
export function faultCounts(
  timeline: FaultRecord[],
): Record<string, Partial<Record<ServiceName, number>>> {
  const counts: Record<string, Partial<Record<ServiceName, number>>> = {};
  for (const fault of timeline) {
    const byTarget = (counts[fault.kind] ??= {});
    for (const target of fault.targets) byTarget[target] = (byTarget[target] ?? 0) + 1;
  }
  return counts;
}
