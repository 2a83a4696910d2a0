-- Runs once, when the Postgres container starts on an empty data directory
-- (docker-compose.yml mounts it into /docker-entrypoint-initdb.d). The local path creates
-- the same databases with scripts/setup.mjs. "order" is a reserved word, hence the quotes.
CREATE DATABASE "order";
CREATE DATABASE "invoicing";
CREATE DATABASE "shipping";
CREATE DATABASE "statistics";
