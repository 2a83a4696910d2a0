-- Retention (shared/store/src/retention.ts) deletes by age: these keep each cleanup run
-- to the rows it removes instead of a scan of the whole table.
CREATE INDEX "outbox_messages_sent_at_idx" ON "outbox_messages"("sent_at");
CREATE INDEX "inbox_messages_received_at_idx" ON "inbox_messages"("received_at");
