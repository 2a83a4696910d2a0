#!/usr/bin/env node
// Local set-up, safe to run any number of times (`make setup`):
// checks that Postgres and RabbitMQ answer, creates each service's database if missing,
// then applies the committed migrations.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import pg from 'pg';

import { importBrokerDefinitions } from './broker-setup.mjs';
import { SERVICES, databaseUrlFor, migrateUrlFor, runForServices } from './prisma.mjs';

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

// `node scripts/setup.mjs [service...]` sets up the databases of the services named (all by
// default); the broker's users are always all of them (one definitions file).
const chosen = process.argv.slice(2);
const unknownServices = chosen.filter((service) => !SERVICES.includes(service));
const SET_UP = chosen.length > 0 ? chosen : SERVICES;

async function ensureDatabases() {
  await withAdminClient(async (client) => {
    for (const service of SET_UP) {
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

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Each service gets a role that owns its database and is the only one allowed to connect
// to it (CONNECT revoked from PUBLIC). Passwords are local-only defaults; with trust
// authentication Postgres does not ask for them, but CONNECT is still enforced.
// Two roles per service: an owner, which owns the database and its tables and runs the
// migrations, and the runtime role the service connects as, which may only read and write
// rows (no DDL: it cannot alter or drop its own tables). Only these two may connect.
async function ensureRoles() {
  // The server's maintenance database is the set-up's, not the services': they may not connect.
  await withAdminClient((client) =>
    client.query(
      `REVOKE CONNECT, TEMPORARY ON DATABASE ${client.escapeIdentifier(databaseNameOf(adminUrl))} FROM PUBLIC`,
    ),
  );
  for (const service of SET_UP) {
    const runtimeUrl = new URL(databaseUrlFor(service));
    const ownerUrl = new URL(migrateUrlFor(service));
    const runtime = decodeURIComponent(runtimeUrl.username);
    const owner = decodeURIComponent(ownerUrl.username);
    const database = databaseNameOf(runtimeUrl.toString());
    if (!runtime || runtime === 'postgres' || !owner || owner === 'postgres' || owner === runtime) {
      console.log(
        `[setup] database ${database}: no separate owner and service roles in its URLs; leaving privileges as they are`,
      );
      continue;
    }
    await withAdminClient(async (client) => {
      const id = (name) => client.escapeIdentifier(name);
      const literal = (value) => client.escapeLiteral(value);
      for (const [role, url] of [
        [owner, ownerUrl],
        [runtime, runtimeUrl],
      ]) {
        const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [
          role,
        ]);
        const password = decodeURIComponent(url.password);
        const login = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE${password ? ` PASSWORD ${literal(password)}` : ''}`;
        await client.query(`${rowCount > 0 ? 'ALTER' : 'CREATE'} ROLE ${id(role)} ${login}`);
      }
      await client.query(`REVOKE ALL ON DATABASE ${id(database)} FROM PUBLIC`);
      await client.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${id(database)} TO ${id(owner)}`);
      await client.query(`GRANT CONNECT ON DATABASE ${id(database)} TO ${id(runtime)}`);
      await client.query(`ALTER DATABASE ${id(database)} OWNER TO ${id(owner)}`);
    });
    const adminOfDatabase = new URL(adminUrl);
    adminOfDatabase.pathname = `/${database}`;
    const client = new pg.Client({ connectionString: adminOfDatabase.toString() });
    await client.connect();
    try {
      const id = (name) => client.escapeIdentifier(name);
      // Whatever an older set-up let the runtime role own moves to the owner.
      await client.query(`REASSIGN OWNED BY ${id(runtime)} TO ${id(owner)}`);
      await client.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
      await client.query(`GRANT USAGE ON SCHEMA public TO ${id(runtime)}`);
      await client.query(
        `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${id(runtime)}`,
      );
      await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${id(runtime)}`);
      await client.query(
        `ALTER DEFAULT PRIVILEGES FOR ROLE ${id(owner)} IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${id(runtime)}`,
      );
      await client.query(
        `ALTER DEFAULT PRIVILEGES FOR ROLE ${id(owner)} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${id(runtime)}`,
      );
    } finally {
      await client.end();
    }
    console.log(
      `[setup] database ${database}: owned by ${owner} (migrations); ${runtime} reads and writes rows only; nobody else may connect`,
    );
  }
}

// With rabbitmqctl (a local broker, run as root), import infra/rabbitmq/definitions.json:
// the `messaging` vhost, one user per service with least-privilege permissions, and the
// exchanges. Without it, every service shares the one configured user, and says so.
async function ensureBrokerUsers() {
  const runDir = path.join(repoRoot, '.run');
  mkdirSync(runDir, { recursive: true });
  // SETUP_BROKER_ENV_FILE= (empty) writes none: the test harness sets up throw-away containers.
  const target = process.env.SETUP_BROKER_ENV_FILE ?? path.join(runDir, 'broker.env');
  const local = ['127.0.0.1', 'localhost', '::1'].includes(new URL(rabbitUrl).hostname);
  // A broker with RABBITMQ_MANAGEMENT_URL (the containers of scripts/servers.sh) gets the
  // same definitions through its management API.
  const managementUrl = process.env.RABBITMQ_MANAGEMENT_URL;
  let perService = false;
  if ((local && !process.env.RABBITMQ_URL) || managementUrl) {
    try {
      await importBrokerDefinitions(managementUrl);
      if (!managementUrl) dropOutdatedQueues();
      perService = await waitForLogin(brokerUrlOf('order'));
    } catch (error) {
      console.log(
        `[setup] ${managementUrl ? 'the management API' : 'rabbitmqctl'} could not import the broker definitions (${reason(error).split('\n')[0]})`,
      );
    }
  }
  // The dashboard reads the observer queue as its own read-only user (definitions.json).
  const lines = [...SERVICES, 'dashboard'].map(
    (service) =>
      `${service.toUpperCase()}_RABBITMQ_URL=${perService ? brokerUrlOf(service) : rabbitUrl}`,
  );
  if (target) {
    writeFileSync(
      target,
      `# Written by scripts/setup.mjs; read by scripts/services.sh.\n${lines.join('\n')}\n`,
    );
  }
  console.log(
    perService
      ? '[setup] broker: vhost messaging, one user per service with least privilege'
      : `[setup] broker: per-service users not set up; every service uses ${redact(rabbitUrl)} (no least privilege)`,
  );
}

// Queues declared by an earlier version dead-letter through the default exchange, which no
// service may write any more (each has its own <service>.retry and <service>.dead). A queue's
// arguments cannot change, so on this local vhost such queues are deleted, and the services
// declare them anew when they start; whatever they held is reported, then gone.
function dropOutdatedQueues() {
  const listed = execFileSync(
    'rabbitmqctl',
    [
      '-q',
      'list_queues',
      '-p',
      'messaging',
      'name',
      'messages',
      'arguments',
      '--formatter',
      'json',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const outdated = JSON.parse(listed || '[]').filter(({ arguments: args }) =>
    (args ?? []).some(([key, , value]) => key === 'x-dead-letter-exchange' && value === ''),
  );
  for (const queue of outdated) {
    execFileSync('rabbitmqctl', ['-q', 'delete_queue', '-p', 'messaging', queue.name], {
      stdio: 'pipe',
    });
    console.log(
      `[setup] broker: queue ${queue.name} dead-lettered through the default exchange; deleted (${queue.messages} message(s)), its service declares it anew`,
    );
  }
}

// The service's own user on the `messaging` vhost of the broker RABBITMQ_URL names.
function brokerUrlOf(service) {
  const { hostname, port } = new URL(rabbitUrl);
  return `amqp://${service}:${service}-local-only@${hostname}:${port || 5672}/messaging`;
}

// Importing definitions is asynchronous: wait until a service user can log in.
async function waitForLogin(url) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const connection = await amqp.connect(url, { timeout: CONNECT_TIMEOUT_MS });
      await connection.close();
      return true;
    } catch (error) {
      if (Date.now() > deadline) {
        console.log(`[setup] broker users did not become usable: ${reason(error)}`);
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function main() {
  if (unknownServices.length > 0) {
    console.error(
      `[setup] unknown service(s): ${unknownServices.join(', ')}; known: ${SERVICES.join(', ')}`,
    );
    process.exit(2);
  }
  const problems = (await Promise.all([checkPostgres(), checkRabbitMq()])).filter(Boolean);
  if (problems.length > 0) {
    console.error(`[setup] cannot continue:\n${problems.join('\n')}`);
    process.exit(1);
  }
  console.log(`[setup] Postgres answers at ${redact(adminUrl)}`);
  console.log(`[setup] RabbitMQ answers at ${redact(rabbitUrl)}`);

  await ensureDatabases();
  await ensureRoles();
  // SETUP_MIGRATIONS=skip: the caller applies them (the test harness, on throw-away containers,
  // applies the same committed SQL without a Prisma CLI per service).
  if (process.env.SETUP_MIGRATIONS === 'skip')
    console.log('[setup] migrations: left to the caller');
  else await runForServices('migrate', SET_UP);
  await ensureBrokerUsers();
  console.log('\n[setup] done');
}

main().catch((error) => {
  console.error(`[setup] failed: ${reason(error)}`);
  process.exit(1);
});
