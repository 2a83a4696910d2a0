-- Runs once, when the Postgres container starts on an empty data directory
-- (docker-compose.yml mounts it into /docker-entrypoint-initdb.d). The local path does the
-- same with scripts/setup.mjs. Each service gets a role that owns its database and is the
-- only one allowed to connect to it. Passwords are local-only defaults
-- (shared/runtime/src/local-defaults.ts). "order" is a reserved word, hence the quotes.
CREATE ROLE order_service LOGIN PASSWORD 'order-local-only';
CREATE ROLE invoicing_service LOGIN PASSWORD 'invoicing-local-only';
CREATE ROLE shipping_service LOGIN PASSWORD 'shipping-local-only';
CREATE ROLE statistics_service LOGIN PASSWORD 'statistics-local-only';
CREATE ROLE payment_service LOGIN PASSWORD 'payment-local-only';

CREATE DATABASE "order" OWNER order_service;
CREATE DATABASE "invoicing" OWNER invoicing_service;
CREATE DATABASE "shipping" OWNER shipping_service;
CREATE DATABASE "statistics" OWNER statistics_service;
CREATE DATABASE "payment" OWNER payment_service;

REVOKE CONNECT, TEMPORARY ON DATABASE "order", "invoicing", "shipping", "statistics", "payment" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE "order" TO order_service;
GRANT CONNECT, TEMPORARY ON DATABASE "invoicing" TO invoicing_service;
GRANT CONNECT, TEMPORARY ON DATABASE "shipping" TO shipping_service;
GRANT CONNECT, TEMPORARY ON DATABASE "statistics" TO statistics_service;
GRANT CONNECT, TEMPORARY ON DATABASE "payment" TO payment_service;
