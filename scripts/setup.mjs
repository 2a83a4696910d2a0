#!/usr/bin/env node
// Local set-up, safe to run any number of times (`make setup`):
// checks that Postgres and RabbitMQ answer, creates each service's database if missing,
// then applies the committed migrations.
import amqp from 'amqplib';
import pg from 'pg';

import { SERVICES, databaseUrlFor, runForServices } from './prisma.mjs';

const adminUrl = process.env.POSTGRES_ADMIN_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
const rabbitUrl = process.env.RABBITMQ_URL || 'amqp://guest:guest@127.0.0.1:5672';
const CONNECT_TIMEOUT_MS = 5000;

const DUPLICATE_DATABASE = '42P04';

function redact(url) {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

function reason(error) {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(reason).join('; ');
  }
  return error instanceof Error ? error.message || error.code || error.name : String(error);
}

async function withAdminClient(work) {
  const client = new pg.Client({
    connectionString: adminUrl,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function checkPostgres() {
  try {
    await withAdminClient((client) => client.query('SELECT 1'));
    return null;
  } catch (error) {
    return [
      `Cannot connect to Postgres at ${redact(adminUrl)}: ${reason(error)}`,
      '  If it is not running, start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
      '  or point POSTGRES_ADMIN_URL at a running server.',
    ].join('\n');
  }
}

async function checkRabbitMq() {
  try {
    const connection = await amqp.connect(rabbitUrl, { timeout: CONNECT_TIMEOUT_MS });
    await connection.close();
    return null;
  } catch (error) {
    return [
      `Cannot connect to RabbitMQ (AMQP) at ${redact(rabbitUrl)}: ${reason(error)}`,
      '  If it is not running, start it: rabbitmq-server -detached',
      '  or point RABBITMQ_URL at a running broker.',
    ].join('\n');
  }
}

function databaseNameOf(url) {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!name) throw new Error(`no database name in ${redact(url)}`);
  return name;
}

async function ensureDatabases() {
  await withAdminClient(async (client) => {
    for (const service of SERVICES) {
      const name = databaseNameOf(databaseUrlFor(service));
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
        name,
      ]);
      if (rowCount > 0) {
        console.log(`[setup] database ${name}: exists`);
        continue;
      }
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
        console.log(`[setup] database ${name}: created`);
      } catch (error) {
        // Another set-up running at the same time may have created it first.
        if (error?.code !== DUPLICATE_DATABASE) throw error;
        console.log(`[setup] database ${name}: exists`);
      }
    }
  });
}

async function main() {
  const problems = (await Promise.all([checkPostgres(), checkRabbitMq()])).filter(Boolean);
  if (problems.length > 0) {
    console.error(`[setup] cannot continue:\n${problems.join('\n')}`);
    process.exit(1);
  }
  console.log(`[setup] Postgres answers at ${redact(adminUrl)}`);
  console.log(`[setup] RabbitMQ answers at ${redact(rabbitUrl)}`);

  await ensureDatabases();
  runForServices('migrate');
  console.log('\n[setup] done');
}

main().catch((error) => {
  console.error(`[setup] failed: ${reason(error)}`);
  process.exit(1);
});
