import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '@app/testing';
import { RELAY_CLAIM, RELAY_MARK } from '../../src/outbox';

/**
 * The relay claims `WHERE sent_at IS NULL ... ORDER BY id` (RELAY_CLAIM in
 * shared/store/src/outbox.ts). An index that holds the sent rows too and can answer
 * `sent_at IS NULL` tempts the planner while a growing table's statistics lag (seen in the
 * bench: a bitmap scan of every row version since the last vacuum, about 1,400 pages per
 * claim after 10,000 messages, docs/performance.md "Cost at moderate load"). The planner's
 * choice depends on statistics this test cannot pin down, so it pins the indexes: the
 * claim has only the index of the unsent rows to choose, in every service with an outbox.
 */
describe("the outbox's indexes in each service's migrated database", () => {
  test.each(['order', 'invoicing', 'shipping', 'payment'])(
    'in %s, the only index that can answer `sent_at IS NULL` holds the unsent rows alone',
    async (service) => {
      const db = await createTestDatabase(service, 'outbox-indexes');
      try {
        const indexes = await db.query<{ name: string; columns: string; predicate: string | null }>(
          `SELECT c.relname AS name,
                  pg_get_indexdef(i.indexrelid) AS columns,
                  pg_get_expr(i.indpred, i.indrelid) AS predicate
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = 'outbox_messages'::regclass`,
        );
        const onSentAt = indexes.filter((index) => /\(sent_at\)/.test(index.columns));
        const unsent = indexes.filter((index) => index.predicate === '(sent_at IS NULL)');

        expect(unsent.map((index) => index.name)).toEqual(['outbox_messages_unsent_idx']);
        // Retention's index (sent_at < cutoff) holds only the sent rows.
        expect(onSentAt.map((index) => [index.name, index.predicate])).toEqual([
          ['outbox_messages_sent_at_idx', '(sent_at IS NOT NULL)'],
        ]);
      } finally {
        await db.drop();
      }
    },
  );
});

describe("the relay's statements, planned while the outbox was empty", () => {
  let db: TestDatabase;
  let client: Client;

  beforeAll(async () => {
    db = await createTestDatabase('invoicing', 'outbox-plans');
    client = new Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  test('when the outbox has grown since, then they still find the rows they mark by index, not by reading the table', async () => {
    // A prepared statement keeps the plan it was given first (here forced, as Postgres does
    // once it settles on a generic plan), and nothing remakes it while no ANALYZE runs.
    await client.query('SET plan_cache_mode = force_generic_plan');
    await client.query(`PREPARE claim(int, int, uuid[], text[]) AS ${RELAY_CLAIM}`);
    await client.query(`PREPARE mark(uuid[], text[]) AS ${RELAY_MARK}`);
    await client.query(
      `EXECUTE claim(100, 30000, '{00000000-0000-0000-0000-000000000001}', '{2026-01-01}')`,
    );
    await client.query(`EXECUTE mark('{00000000-0000-0000-0000-000000000001}', '{2026-01-01}')`);
    await client.query(
      `INSERT INTO outbox_messages (message_id, type, exchange, routing_key, payload, properties)
       SELECT gen_random_uuid(), 'InvoiceIssued', 'invoicing.events', 'invoice.issued', '{}', '{}'
         FROM generate_series(1, 5000)`,
    );

    for (const execute of [
      `EXECUTE claim(100, 30000, '{00000000-0000-0000-0000-000000000005,00000000-0000-0000-0000-000000000007}', '{2026-01-01,2026-01-02}')`,
      `EXECUTE mark('{00000000-0000-0000-0000-000000000006,00000000-0000-0000-0000-000000000008}', '{2026-01-01,2026-01-02}')`,
    ]) {
      const { rows } = await client.query<{ 'QUERY PLAN': unknown }>(
        `EXPLAIN (FORMAT JSON) ${execute}`,
      );
      expect(scansOf(rows[0]?.['QUERY PLAN'])).not.toContain('Seq Scan');
    }
  });
});

/** The node types of a plan (EXPLAIN FORMAT JSON) that read a table. */
function scansOf(plan: unknown): string[] {
  if (Array.isArray(plan)) return plan.flatMap(scansOf);
  if (plan === null || typeof plan !== 'object') return [];
  return Object.entries(plan).flatMap(([key, value]) =>
    key === 'Node Type' && typeof value === 'string' && value.endsWith('Scan')
      ? [value]
      : scansOf(value),
  );
}
