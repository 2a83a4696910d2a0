-- The relay claims with `sent_at IS NULL ... ORDER BY id` (shared/store/src/outbox.ts), which the
-- partial index outbox_messages_unsent_idx serves. The index on sent_at for retention held the
-- NULLs too, and while the table had no statistics the planner took that one for the claim: a
-- bitmap scan of every row version written since the last vacuum, about 1,400 pages for one claim
-- after 10,000 messages (seen on a system whose Postgres ran without autovacuum). Retention looks
-- only at sent rows, so its index now holds only those.
DROP INDEX "outbox_messages_sent_at_idx";
CREATE INDEX "outbox_messages_sent_at_idx" ON "outbox_messages"("sent_at") WHERE "sent_at" IS NOT NULL;
