import type { NamedDatabase } from '@app/testing';
import type { CpuUse } from './cpu';

/** `xact_commit` and `xact_rollback` of `pg_stat_database`, per database name. */
export type TransactionCounts = Record<string, { commits: number; rollbacks: number }>;

/** Transactions of one service's database per completed order. */
export interface TransactionsPerOrder {
  label: string;
  commits: number;
  rollbacks: number;
  commitsPerOrder: number;
  rollbacksPerOrder: number;
}

/** CPU of one process group per completed order. */
export interface CpuPerOrder {
  label: string;
  percent: number;
  msPerOrder: number;
}

/**
 * The counters of the named databases now. Each backend reports its counts at most once a
 * second, so a reading lags the truth by up to a second of each backend's transactions;
 * taken twice under steady load, the lags are alike and cancel out of the difference.
 */
export async function readTransactionCounts(
  db: NamedDatabase,
  names: string[],
): Promise<TransactionCounts> {
  const rows = await db.query<{ datname: string; commits: string; rollbacks: string }>(
    `SELECT datname, xact_commit::text AS commits, xact_rollback::text AS rollbacks
       FROM pg_stat_database WHERE datname = ANY($1::text[])`,
    [names],
  );
  return Object.fromEntries(
    rows.map((row) => [
      row.datname,
      { commits: Number(row.commits), rollbacks: Number(row.rollbacks) },
    ]),
  );
}

/**
 * Transactions per completed order in each database between two readings, then all of
 * them together (labelled `total`). `databases` maps a label (the service) to its name.
 */
export function transactionsPerOrder(
  before: TransactionCounts,
  after: TransactionCounts,
  databases: Record<string, string>,
  completed: number,
): TransactionsPerOrder[] {
  const rows = Object.entries(databases).map(([label, name]) => ({
    label,
    commits: (after[name]?.commits ?? 0) - (before[name]?.commits ?? 0),
    rollbacks: (after[name]?.rollbacks ?? 0) - (before[name]?.rollbacks ?? 0),
  }));
  const total = {
    label: 'total',
    commits: rows.reduce((sum, row) => sum + row.commits, 0),
    rollbacks: rows.reduce((sum, row) => sum + row.rollbacks, 0),
  };
  return [...rows, total].map((row) => ({
    ...row,
    commitsPerOrder: completed > 0 ? row.commits / completed : 0,
    rollbacksPerOrder: completed > 0 ? row.rollbacks / completed : 0,
  }));
}

/** CPU ms per completed order of each process group in a sample, then the machine's. */
export function cpuPerOrder(cpu: CpuUse, completed: number): CpuPerOrder[] {
  const msPerOrder = (percent: number): number =>
    completed > 0 ? ((percent / 100) * cpu.seconds * 1000) / completed : 0;
  return [
    ...cpu.processes,
    { label: 'other processes on the machine', percent: cpu.others },
    { label: 'machine total', percent: cpu.machine },
  ].map(({ label, percent }) => ({ label, percent, msPerOrder: msPerOrder(percent) }));
}
