-- Admission control counts the open orders every 200 ms (services/order/src/entry-points/http/admission.ts):
-- this index holds only those, so the count reads the open orders and not the whole table.
-- Its predicate must match the count's WHERE clause for the planner to use it.
CREATE INDEX "orders_open_idx" ON "orders"("created_at") WHERE "status" NOT IN ('COMPLETED', 'CANCELLED', 'FAILED')
