-- AlterTable: what each counted order added, so that its cancellation takes out exactly
-- that. Orders counted before this migration read 0: what they added is not known.
ALTER TABLE "counted_orders" ADD COLUMN "revenue_cents" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN "items_sold" BIGINT NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "currency_totals" ADD COLUMN "cancelled_orders" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "cancelled_orders" (
    "order_id" UUID NOT NULL,
    "reason" TEXT NOT NULL,
    "cancelled_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "cancelled_orders_pkey" PRIMARY KEY ("order_id")
);

-- Hand-written: Prisma cannot express a function.
-- A NewOrder and an OrderCancelled of one order can be handled at the same moment. Each
-- alone would miss the other's uncommitted row (the NewOrder the tombstone, the
-- OrderCancelled the counted order), and the order's revenue would stay in the totals.
-- Both call this: the per-order lock makes the second wait for the first to commit, and
-- PL/pgSQL reads the tombstone with a snapshot taken after the wait (in READ COMMITTED
-- each query in a volatile function takes its own), so it sees what the first committed.
CREATE FUNCTION "order_is_cancelled"(p_order_id UUID) RETURNS BOOLEAN
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_order_id::text, 0));
  RETURN EXISTS (SELECT 1 FROM cancelled_orders WHERE order_id = p_order_id);
END
$$;
