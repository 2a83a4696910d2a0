-- The payment saga: the order's payment decision and, when declined, why it was cancelled.
ALTER TABLE "orders" ADD COLUMN "payment_id" UUID;
ALTER TABLE "orders" ADD COLUMN "cancellation_reason" TEXT;
