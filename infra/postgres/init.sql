-- Runs once, when the Postgres container starts on an empty data directory
-- (docker-compose.yml mounts it into /docker-entrypoint-initdb.d). The local path does the
-- same with scripts/setup.mjs. Each service gets two roles: <service>_owner owns its
-- database and runs the migrations; <service>_service, which the service connects as, may
-- only read and write rows. Nobody else may connect. Passwords are local-only defaults
-- (shared/runtime/src/local-defaults.ts), refused when NODE_ENV=production. "order" is a
-- reserved word, hence the quotes.

CREATE ROLE order_owner LOGIN PASSWORD 'order-owner-local-only';
CREATE ROLE invoicing_owner LOGIN PASSWORD 'invoicing-owner-local-only';
CREATE ROLE shipping_owner LOGIN PASSWORD 'shipping-owner-local-only';
CREATE ROLE statistics_owner LOGIN PASSWORD 'statistics-owner-local-only';
CREATE ROLE payment_owner LOGIN PASSWORD 'payment-owner-local-only';
CREATE ROLE order_service LOGIN PASSWORD 'order-local-only';
CREATE ROLE invoicing_service LOGIN PASSWORD 'invoicing-local-only';
CREATE ROLE shipping_service LOGIN PASSWORD 'shipping-local-only';
CREATE ROLE statistics_service LOGIN PASSWORD 'statistics-local-only';
CREATE ROLE payment_service LOGIN PASSWORD 'payment-local-only';

CREATE DATABASE "order" OWNER order_owner;
CREATE DATABASE "invoicing" OWNER invoicing_owner;
CREATE DATABASE "shipping" OWNER shipping_owner;
CREATE DATABASE "statistics" OWNER statistics_owner;
CREATE DATABASE "payment" OWNER payment_owner;

REVOKE ALL ON DATABASE "order", "invoicing", "shipping", "statistics", "payment", postgres FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE "order" TO order_owner;
GRANT CONNECT ON DATABASE "order" TO order_service;
GRANT CONNECT, TEMPORARY ON DATABASE "invoicing" TO invoicing_owner;
GRANT CONNECT ON DATABASE "invoicing" TO invoicing_service;
GRANT CONNECT, TEMPORARY ON DATABASE "shipping" TO shipping_owner;
GRANT CONNECT ON DATABASE "shipping" TO shipping_service;
GRANT CONNECT, TEMPORARY ON DATABASE "statistics" TO statistics_owner;
GRANT CONNECT ON DATABASE "statistics" TO statistics_service;
GRANT CONNECT, TEMPORARY ON DATABASE "payment" TO payment_owner;
GRANT CONNECT ON DATABASE "payment" TO payment_service;

\connect "order"
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO order_service;
ALTER DEFAULT PRIVILEGES FOR ROLE order_owner IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO order_service;
ALTER DEFAULT PRIVILEGES FOR ROLE order_owner IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO order_service;

\connect "invoicing"
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO invoicing_service;
ALTER DEFAULT PRIVILEGES FOR ROLE invoicing_owner IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO invoicing_service;
ALTER DEFAULT PRIVILEGES FOR ROLE invoicing_owner IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO invoicing_service;

\connect "shipping"
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO shipping_service;
ALTER DEFAULT PRIVILEGES FOR ROLE shipping_owner IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO shipping_service;
ALTER DEFAULT PRIVILEGES FOR ROLE shipping_owner IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO shipping_service;

\connect "statistics"
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO statistics_service;
ALTER DEFAULT PRIVILEGES FOR ROLE statistics_owner IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO statistics_service;
ALTER DEFAULT PRIVILEGES FOR ROLE statistics_owner IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO statistics_service;

\connect "payment"
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO payment_service;
ALTER DEFAULT PRIVILEGES FOR ROLE payment_owner IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO payment_service;
ALTER DEFAULT PRIVILEGES FOR ROLE payment_owner IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO payment_service;
