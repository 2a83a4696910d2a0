import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '@app/runtime';
import { delay } from '@app/runtime';
import type { SqlClient } from './sql';

/**
 * One kind of row that is kept for a window and then removed: deleted, or (with `clear`)
 * kept with some columns set to NULL. Table, column and condition names are the code's
 * own configuration, never user input: they are written into the SQL.
 */
export interface RetentionTarget {
  /** Names the target in metrics and logs (`outbox`, `inbox`, `idempotency_keys`). */
  name: string;
  table: string;
  /** The row's age is measured from this timestamp column. */
  timeColumn: string;
  /** Rows younger than this are kept. */
  windowMs: number;
  /** A condition a row must also meet to be removed, e.g. that the relay is done with it. */
  guard?: string;
  /** Set these columns to NULL instead of deleting the row (and only while one is set). */
  clear?: string[];
}

/** The outbox rows the relay confirmed more than `windowMs` ago and holds no lease on. */
export function outboxRetention(windowMs: number): RetentionTarget {
  return {
    name: 'outbox',
    table: 'outbox_messages',
    timeColumn: 'sent_at',
    windowMs,
    // Never an unsent row (the relay has yet to publish it) nor one leased to a relay.
    guard: 'sent_at IS NOT NULL AND (locked_until IS NULL OR locked_until < now())',
  };
}

/** The inbox rows received more than `windowMs` ago: a duplicate after that is processed again. */
export function inboxRetention(windowMs: number): RetentionTarget {
  return { name: 'inbox', table: 'inbox_messages', timeColumn: 'received_at', windowMs };
}

export interface RetentionOptions {
  db: SqlClient;
  logger: Logger;
  targets: RetentionTarget[];
  /** Time between runs. */
  intervalMs: number;
  /** Rows per statement: each batch is its own short transaction. */
  batchSize: number;
  registry?: Registry;
}

/** What one run removed, per target, and how many batches it took. */
export type RetentionRun = Record<string, { removed: number; batches: number }>;

/**
 * Removes rows older than their window, in batches of `batchSize` rows, each batch one
 * statement in its own transaction. A batch locks only the rows it removes and skips rows
 * another transaction holds (`FOR UPDATE SKIP LOCKED`): the message path never waits on it,
 * and several instances can run it at once, each taking other rows.
 */
export class Retention {
  private readonly removedTotal: Counter<'table'> | undefined;
  private readonly oldestAge: Gauge<'table'> | undefined;
  private readonly tableBytes: Gauge<'table'> | undefined;
  private readonly statements: Map<string, { remove: string; oldest: string }>;
  private wakeUp = new AbortController();
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: RetentionOptions) {
    this.statements = new Map(options.targets.map((t) => [t.name, statementsOf(t)]));
    const registers = options.registry ? [options.registry] : [];
    if (options.registry) {
      this.removedTotal = new Counter({
        name: 'retention_rows_removed_total',
        help: 'Rows removed (or whose keys were cleared) by retention, by table',
        labelNames: ['table'],
        registers,
      });
      this.oldestAge = new Gauge({
        name: 'retention_oldest_row_age_seconds',
        help: 'Age of the oldest row retention keeps, by table (0 when none)',
        labelNames: ['table'],
        registers,
      });
      this.tableBytes = new Gauge({
        name: 'retention_table_size_bytes',
        help: 'pg_total_relation_size of each table under retention (heap, indexes, TOAST)',
        labelNames: ['table'],
        registers,
      });
    }
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Finishes the batch in flight, then stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.runOnce();
      } catch (err) {
        this.options.logger.warn({ err }, 'retention run failed; will retry');
      }
      if (this.stopped) break;
      this.wakeUp = new AbortController();
      await delay(this.options.intervalMs, this.wakeUp.signal);
    }
  }

  /** One pass over every target: batches until a batch comes back short, then the gauges. */
  async runOnce(): Promise<RetentionRun> {
    const { db, logger, targets, batchSize } = this.options;
    const started = Date.now();
    const result: RetentionRun = {};
    for (const target of targets) {
      const sql = this.statements.get(target.name)!;
      let removed = 0;
      let batches = 0;
      for (;;) {
        const count = await db.$executeRawUnsafe(sql.remove, target.windowMs, batchSize);
        batches += 1;
        removed += count;
        this.removedTotal?.inc({ table: target.name }, count);
        if (count < batchSize || this.stopped) break;
      }
      result[target.name] = { removed, batches };
      if (this.oldestAge) {
        const [row] = await db.$queryRawUnsafe<{ age: number | null; bytes: string }[]>(sql.oldest);
        this.oldestAge.set({ table: target.name }, Number(row?.age ?? 0));
        this.tableBytes?.set({ table: target.name }, Number(row?.bytes ?? 0));
      }
    }
    logger.info({ retention: result, ms: Date.now() - started }, 'retention run');
    return result;
  }
}

function statementsOf(target: RetentionTarget): { remove: string; oldest: string } {
  const { table, timeColumn, guard, clear } = target;
  const keep = clear ? `(${clear.map((c) => `${c} IS NOT NULL`).join(' OR ')})` : 'TRUE';
  const expired = `${timeColumn} < now() - ($1::float8 * interval '1 millisecond')
                   AND (${guard ?? 'TRUE'}) AND ${keep}`;
  // ctid = ANY(ARRAY(...)) is a TID scan of exactly the rows the subquery locked.
  const batch = `ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE ${expired}
                                   LIMIT $2 FOR UPDATE SKIP LOCKED))`;
  const remove = clear
    ? `UPDATE ${table} SET ${clear.map((c) => `${c} = NULL`).join(', ')} WHERE ${batch}`
    : `DELETE FROM ${table} WHERE ${batch}`;
  const oldest = `SELECT extract(epoch FROM now() - min(${timeColumn}))::float8 AS age,
                         pg_total_relation_size('${table}')::text AS bytes
                    FROM ${table} WHERE ${timeColumn} IS NOT NULL AND (${guard ?? 'TRUE'}) AND ${keep}`;
  return { remove, oldest };
}
