import { createTestDatabase } from '@app/testing';

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
