-- CreateTable
CREATE TABLE "cancelled_orders" (
    "order_id" UUID NOT NULL,
    "reason" TEXT NOT NULL,
    "cancelled_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "cancelled_orders_pkey" PRIMARY KEY ("order_id")
);

-- Hand-written: Prisma cannot express a function.
-- A NewOrder and an OrderCancelled of one order can be handled at the same moment. Each
-- alone would miss the other's uncommitted row (the NewOrder its tombstone, the
-- OrderCancelled its shipment), and the order would keep a live shipment. Both call this
-- first: the per-order lock makes the second wait for the first to commit, and PL/pgSQL
-- reads the tombstone with a snapshot taken after the wait (in READ COMMITTED each query
-- in a volatile function takes its own), so it sees what the first one committed.
CREATE FUNCTION "order_is_cancelled"(p_order_id UUID) RETURNS BOOLEAN
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_order_id::text, 0));
  RETURN EXISTS (SELECT 1 FROM cancelled_orders WHERE order_id = p_order_id);
END
$$;
