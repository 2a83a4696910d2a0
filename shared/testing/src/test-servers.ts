import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { ServiceNames } from '@app/contracts';
import { REPO_ROOT, applyMigrations } from './databases';
import {
  describeServers,
  resolveInfrastructure,
  testRunId,
  type Infrastructure,
  type ResolvedInfrastructure,
} from './infrastructure';

export interface PreparedServers extends ResolvedInfrastructure {
  /** The tripwire's record of contacts with the machine's own servers (runs on containers). */
  tripwireFile?: string;
}

/**
 * What a test run does first: chooses the servers (`resolveInfrastructure`), says which, and
 * on containers sets them up the way `make setup` sets up local ones (the services' own
 * databases and roles, the broker's users) and arms the tripwire for every process started
 * afterwards. `setup` also runs the set-up on local servers (`make test`).
 */
export async function prepareTestServers({
  setup = false,
  log = (line: string) => process.stdout.write(`${line}\n`),
} = {}): Promise<PreparedServers> {
  const resolved = await resolveInfrastructure();
  const { infrastructure } = resolved;
  if (!resolved.chosenHere) {
    log(`test servers: ${infrastructure.source} (${resolved.why})`);
    return {
      ...resolved,
      ...(process.env.TEST_TRIPWIRE_FILE ? { tripwireFile: process.env.TEST_TRIPWIRE_FILE } : {}),
    };
  }
  for (const line of describeServers(resolved)) log(line);
  try {
    if (infrastructure.source === 'testcontainers') {
      const started = Date.now();
      const env = setupEnvironmentOf(infrastructure);
      await runSetup(env);
      await Promise.all(
        ServiceNames.map((service) =>
          migrate(env[`${service.toUpperCase()}_MIGRATE_DATABASE_URL`]!, service),
        ),
      );
      log(
        `  set up like \`make setup\` (databases, roles, broker users) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      const tripwireFile = armTripwireForChildren();
      log(
        `  tripwire on: contacts with this machine's own servers are recorded in ${path.relative(REPO_ROOT, tripwireFile)}`,
      );
      return { ...resolved, tripwireFile };
    }
    if (setup) await runSetup({});
  } catch (err) {
    await resolved.stop();
    throw err;
  }
  return resolved;
}

/** The variables scripts/setup.mjs reads, pointed at the containers' servers. */
function setupEnvironmentOf(infrastructure: Infrastructure): Record<string, string> {
  const admin = new URL(infrastructure.postgresUrl);
  const env: Record<string, string> = {
    POSTGRES_ADMIN_URL: infrastructure.postgresUrl,
    RABBITMQ_URL: infrastructure.rabbitmqUrl,
    // .run/broker.env is `make up`'s; a throw-away container's users do not belong there.
    SETUP_BROKER_ENV_FILE: '',
    // A Prisma CLI per service costs half a minute of two cores; the SQL is the same.
    SETUP_MIGRATIONS: 'skip',
  };
  if (infrastructure.rabbitmqManagementUrl) {
    env.RABBITMQ_MANAGEMENT_URL = infrastructure.rabbitmqManagementUrl;
  }
  for (const service of ServiceNames) {
    const name = service.toUpperCase();
    env[`${name}_DATABASE_URL`] =
      `postgresql://${service}_service:${service}-local-only@${admin.host}/${service}`;
    env[`${name}_MIGRATE_DATABASE_URL`] =
      `postgresql://${service}_owner:${service}-owner-local-only@${admin.host}/${service}`;
  }
  return env;
}

/** The committed migrations, as the service's owner role (as `prisma migrate deploy` runs them). */
async function migrate(ownerUrl: string, service: string): Promise<void> {
  const client = new Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    await applyMigrations(client, service);
  } finally {
    await client.end();
  }
}

async function runSetup(env: Record<string, string>): Promise<void> {
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'scripts', 'setup.mjs')], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) {
    throw new Error(`the set-up of the test servers failed (exit ${code}):\n${output.join('')}`);
  }
}

/**
 * Puts the tripwire (dist/tripwire.js) into NODE_OPTIONS, so every node process started from
 * here on (jest's workers, the services) records contacts with the machine's own servers.
 */
function armTripwireForChildren(): string {
  const entry = path.join(REPO_ROOT, 'shared', 'testing', 'dist', 'tripwire.js');
  if (!existsSync(entry)) {
    throw new Error(`${path.relative(REPO_ROOT, entry)} is missing: run \`make build\` first`);
  }
  const folder = path.join(REPO_ROOT, '.run', 'test-runs', testRunId());
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, 'local-contacts.jsonl');
  process.env.TEST_TRIPWIRE_FILE = file;
  const require = `--require ${JSON.stringify(entry)}`;
  const current = process.env.NODE_OPTIONS ?? '';
  if (!current.includes(entry)) process.env.NODE_OPTIONS = `${current} ${require}`.trim();
  return file;
}
