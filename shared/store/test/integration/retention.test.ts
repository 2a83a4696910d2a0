import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { createLogger } from '@app/runtime';
import { createTestDatabase, waitFor, type TestDatabase } from '@app/testing';
import {
  PgDatabase,
  Retention,
  claimInbox,
  inboxRetention,
  outboxRetention,
  type RetentionTarget,
} from '../../src';

const logger = createLogger('retention-test', 'silent');
const HOUR_MS = 3_600_000;

/** Writes an outbox row in the given relay state; ages are in milliseconds before now. */
async function outboxRow(
  db: TestDatabase,
  state: { sentAgoMs?: number; leasedForMs?: number; createdAgoMs?: number },
): Promise<string> {
  const messageId = randomUUID();
  await db.query(
    `INSERT INTO outbox_messages (message_id, type, exchange, routing_key, payload, properties,
                                  created_at, sent_at, locked_until)
     VALUES ($1, 'NewOrder', 'x', 'k', '{}', '{}',
             now() - ($2::float8 * interval '1 millisecond'),
             now() - ($3::float8 * interval '1 millisecond'),
             now() + ($4::float8 * interval '1 millisecond'))`,
    [
      messageId,
      state.createdAgoMs ?? 2 * HOUR_MS,
      state.sentAgoMs ?? null,
      state.leasedForMs ?? null,
    ],
  );
  return messageId;
}

async function outboxIds(db: TestDatabase): Promise<string[]> {
  const rows = await db.query<{ message_id: string }>('SELECT message_id FROM outbox_messages');
  return rows.map((row) => row.message_id);
}

describe('retention of the outbox and the inbox', () => {
  let db: TestDatabase;
  let pg: PgDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('invoicing', 'retention');
    pg = new PgDatabase(db.url, 4);
  });
  afterAll(async () => {
    await pg.end();
    await db.drop();
  });
  beforeEach(async () => {
    await db.query('TRUNCATE outbox_messages, inbox_messages');
  });

  const retention = (targets: RetentionTarget[], batchSize = 100, registry?: Registry) =>
    new Retention({ db: pg, logger, targets, intervalMs: 60_000, batchSize, registry });

  it('when outbox rows are past the window, then only sent rows no relay holds are removed', async () => {
    const sentLongAgo = await outboxRow(db, { sentAgoMs: HOUR_MS });
    const sentRecently = await outboxRow(db, { sentAgoMs: 1_000 });
    const neverSent = await outboxRow(db, { createdAgoMs: 10 * HOUR_MS });
    const leased = await outboxRow(db, { createdAgoMs: 10 * HOUR_MS, leasedForMs: 30_000 });
    const leaseRanOut = await outboxRow(db, { createdAgoMs: 10 * HOUR_MS, leasedForMs: -1_000 });

    const run = await retention([outboxRetention(60_000)]).runOnce();

    expect(run.outbox?.removed).toBe(1);
    expect((await outboxIds(db)).sort()).toEqual(
      [sentRecently, neverSent, leased, leaseRanOut].sort(),
    );
    expect(await outboxIds(db)).not.toContain(sentLongAgo);
  });

  it('when a row past the window is locked by another transaction, then the run skips it without waiting', async () => {
    const held = await outboxRow(db, { sentAgoMs: HOUR_MS });
    const free = await outboxRow(db, { sentAgoMs: HOUR_MS });
    const other = await pg.pool.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT 1 FROM outbox_messages WHERE message_id = $1 FOR UPDATE', [held]);

      const run = await retention([outboxRetention(60_000)]).runOnce();

      expect(run.outbox?.removed).toBe(1);
      expect(await outboxIds(db)).toEqual([held]);
      expect(await outboxIds(db)).not.toContain(free);
    } finally {
      await other.query('ROLLBACK');
      other.release();
    }
  });

  it('when more rows are due than a batch holds, then one run removes them all in batches and counts them', async () => {
    for (let i = 0; i < 25; i += 1) await outboxRow(db, { sentAgoMs: HOUR_MS });
    await outboxRow(db, { sentAgoMs: 0 });
    const registry = new Registry();

    const run = await retention([outboxRetention(60_000)], 10, registry).runOnce();

    expect(run.outbox).toEqual({ removed: 25, batches: 3 });
    expect(await outboxIds(db)).toHaveLength(1);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/retention_rows_removed_total\{table="outbox"\} 25/);
    expect(metrics).toMatch(/retention_table_size_bytes\{table="outbox"\} [1-9]/);
    expect(metrics).toMatch(/retention_oldest_row_age_seconds\{table="outbox"\} /);
  });

  it('when a duplicate arrives inside the inbox window, then it is absorbed; after the window, it is processed again', async () => {
    const inbox = { consumer: 'invoicing.new-order', messageId: randomUUID(), type: 'NewOrder' };
    const job = retention([inboxRetention(1_000)]);

    expect(await claimInbox(pg, inbox)).toBe(true);
    await job.runOnce();
    expect(await claimInbox(pg, inbox)).toBe(false);

    await waitFor(
      'the inbox row to leave its window and be removed',
      async () => (await job.runOnce()).inbox?.removed === 1,
    );
    expect(await claimInbox(pg, inbox)).toBe(true);
  });
});

describe('retention of idempotency keys', () => {
  let db: TestDatabase;
  let pg: PgDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('order', 'retention');
    pg = new PgDatabase(db.url, 2);
  });
  afterAll(async () => {
    await pg.end();
    await db.drop();
  });

  it('when a key is past its window, then the key is cleared and the order kept', async () => {
    const insert = (key: string, agoMs: number) =>
      db.query(
        `INSERT INTO orders (id, status, style, customer_id, currency, total_cents, shipping_address,
                             idempotency_key, request_hash, created_at, updated_at)
         VALUES ($1, 'PENDING', 'event', 'c', 'EUR', 100, '{}', $2, 'h',
                 now() - ($3::float8 * interval '1 millisecond'), now())`,
        [randomUUID(), key, agoMs],
      );
    await insert('old-key', HOUR_MS);
    await insert('new-key', 0);
    const target: RetentionTarget = {
      name: 'idempotency_keys',
      table: 'orders',
      timeColumn: 'created_at',
      windowMs: 60_000,
      clear: ['idempotency_key', 'request_hash'],
    };

    const run = await new Retention({
      db: pg,
      logger,
      targets: [target],
      intervalMs: 60_000,
      batchSize: 10,
    }).runOnce();

    expect(run.idempotency_keys?.removed).toBe(1);
    const rows = await db.query<{ idempotency_key: string | null; request_hash: string | null }>(
      'SELECT idempotency_key, request_hash FROM orders ORDER BY created_at',
    );
    expect(rows).toEqual([
      { idempotency_key: null, request_hash: null },
      { idempotency_key: 'new-key', request_hash: 'h' },
    ]);
  });
});
