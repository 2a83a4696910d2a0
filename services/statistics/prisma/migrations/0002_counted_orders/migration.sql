-- CreateTable
CREATE TABLE "counted_orders" (
    "order_id" UUID NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "counted_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "counted_orders_pkey" PRIMARY KEY ("order_id")
);
