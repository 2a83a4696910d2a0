import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Client } from 'pg';
import { currentInfrastructure } from './infrastructure';
import { uniqueTestName } from './names';

export const REPO_ROOT = path.resolve(__dirname, '../../..');

export interface TestDatabase {
  name: string;
  url: string;
  /** Runs SQL against the database as the harness's user, for arranging and asserting. */
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
  ): Promise<R[]>;
  drop(): Promise<void>;
}

/**
 * A fresh database for one service, with that service's committed migrations applied,
 * named so that it is recognisably a test database.
 */
export async function createTestDatabase(service: string, label = service): Promise<TestDatabase> {
  const name = `${uniqueTestName(label)}_${service}`.slice(0, 63);
  assertTestDatabase(name);
  return createMigratedDatabase(currentInfrastructure().postgresUrl, name, service);
}

/** A database made by `createMigratedDatabase`; `close` leaves it, `drop` removes it. */
export interface MigratedDatabase extends TestDatabase {
  /** Closes the harness's connection and leaves the database for a look afterwards. */
  close(): Promise<void>;
}

/**
 * Creates the database `name` (which must not exist) and applies `service`'s committed
 * migrations. Callers check the name first: `createTestDatabase` allows only test_* names.
 */
export async function createMigratedDatabase(
  adminUrl: string,
  name: string,
  service: string,
): Promise<MigratedDatabase> {
  await withClient(adminUrl, async (client) => {
    await client.query(`CREATE DATABASE "${name}"`);
    // Like the services' own databases: no role may connect just because it exists.
    await client.query(`REVOKE ALL ON DATABASE "${name}" FROM PUBLIC`);
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  // One connection, opened again after it broke (a test that stops or cuts Postgres).
  let client = await connectedClient(databaseUrl);
  let broken = false;
  const watch = (c: Client) =>
    c.on('error', () => {
      broken = true;
    });
  watch(client);
  try {
    await applyMigrations(client, service);
  } catch (err) {
    await client.end();
    throw err;
  }
  return {
    name,
    url: databaseUrl,
    async query<R extends Record<string, unknown>>(sql: string, params: unknown[] = []) {
      if (broken) {
        await client.end().catch(() => undefined);
        client = await connectedClient(databaseUrl);
        broken = false;
        watch(client);
      }
      try {
        return (await client.query<R>(sql, params)).rows;
      } catch (err) {
        // A connection the server ended answers every later query with an error.
        if (!(err as { code?: string }).code) broken = true;
        throw err;
      }
    },
    async close() {
      await client.end().catch(() => undefined);
    },
    async drop() {
      await client.end().catch(() => undefined);
      await dropDatabase(adminUrl, name);
    },
  };
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withClient(adminUrl, (admin) =>
    admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  );
}

/** The harness refuses to touch a database whose name does not mark it as a test one. */
export function assertTestDatabase(name: string): void {
  if (!/^test_[a-z0-9_]+$/.test(name)) {
    throw new Error(`Refusing to use database "${name}": test databases are named test_*`);
  }
}

/** Applies `service`'s committed migrations (the SQL `prisma migrate deploy` would run), in order. */
export async function applyMigrations(
  client: Pick<Client, 'query'>,
  service: string,
): Promise<void> {
  for (const sql of await migrationsOf(service)) await client.query(sql);
}

async function migrationsOf(service: string): Promise<string[]> {
  const folder = path.join(REPO_ROOT, 'services', service, 'prisma', 'migrations');
  const entries = (await readdir(folder, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    entries.map((entry) => readFile(path.join(folder, entry, 'migration.sql'), 'utf8')),
  );
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function connectedClient(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
}
