-- Every status an order enters, in order: the audit trail of the saga. Written by a trigger,
-- so no code path can change a status without leaving its row. A status entered twice (a
-- repeated message applied twice) shows here even though the order row looks right.
CREATE TABLE "order_status_changes" (
    "id" BIGSERIAL NOT NULL,
    "order_id" UUID NOT NULL,
    "status" TEXT NOT NULL,
    "changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "order_status_changes_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "order_status_changes_order_id_id_idx" ON "order_status_changes"("order_id", "id");

ALTER TABLE "order_status_changes" ADD CONSTRAINT "order_status_changes_order_id_fkey"
    FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The body is an escape string with each semicolon written as \073, because Prisma migrate
-- deploy splits a script at every semicolon, also inside a function body or a comment, and
-- PL/pgSQL needs them.
CREATE FUNCTION "record_order_status"() RETURNS TRIGGER
    LANGUAGE plpgsql AS E'
BEGIN
    IF TG_OP = ''INSERT'' OR NEW."status" IS DISTINCT FROM OLD."status" THEN
        INSERT INTO "order_status_changes" ("order_id", "status") VALUES (NEW."id", NEW."status")\073
    END IF\073
    RETURN NEW\073
END
';

CREATE TRIGGER "orders_status_history"
    AFTER INSERT OR UPDATE OF "status" ON "orders"
    FOR EACH ROW EXECUTE FUNCTION "record_order_status"();
