-- CreateTable
CREATE TABLE "cancelled_orders" (
    "order_id" UUID NOT NULL,
    "reason" TEXT NOT NULL,
    "cancelled_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "cancelled_orders_pkey" PRIMARY KEY ("order_id")
);

-- Hand-written: Prisma cannot express functions.
-- A NewOrder and an OrderCancelled of one order can be handled at the same moment. Each
-- alone would miss the other's uncommitted row (the NewOrder the tombstone, the
-- OrderCancelled its invoice), and the order would keep a live invoice. Both call
-- order_is_cancelled: the per-order lock makes the second wait for the first to commit,
-- and the tombstone is read by a query of its own, after the lock, so in READ COMMITTED
-- with a snapshot that shows what the first one committed. SET keeps Postgres from
-- inlining the functions into the caller's query (and its older snapshot). No semicolon
-- in the bodies: Prisma's migrate deploy splits a script at every one.
CREATE FUNCTION "cancelled_order_exists"(p_order_id UUID) RETURNS BOOLEAN
LANGUAGE sql VOLATILE SET search_path FROM CURRENT AS $$
  SELECT EXISTS (SELECT 1 FROM cancelled_orders WHERE order_id = p_order_id)
$$;

CREATE FUNCTION "order_is_cancelled"(p_order_id UUID) RETURNS BOOLEAN
LANGUAGE sql VOLATILE SET search_path FROM CURRENT AS $$
  WITH locked AS MATERIALIZED (
    SELECT pg_advisory_xact_lock(hashtextextended(p_order_id::text, 0))
  )
  SELECT cancelled_order_exists(p_order_id) FROM locked
$$;
