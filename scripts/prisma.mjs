#!/usr/bin/env node
// Runs the Prisma CLI for every service, the same way locally, in CI and in the image.
//
//   node scripts/prisma.mjs generate [service...]
//   node scripts/prisma.mjs migrate  [service...]
//   node scripts/prisma.mjs list                  the services with a database, one a line
//
// `migrate` applies committed migrations (`prisma migrate deploy`) to the database named by
// <NAME>_DATABASE_URL (for example ORDER_DATABASE_URL), defaulting to the local database.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// The hand-written services first, in their usual order; then any other folder under
// services/ with a Prisma schema (one made by `npm run new-service`), so a new service needs
// no edit here. The dashboard has no database.
const KNOWN = ['order', 'invoicing', 'shipping', 'statistics', 'payment'];

export const SERVICES = [
  ...KNOWN,
  ...readdirSync(path.join(repoRoot, 'services'))
    .filter((name) => !KNOWN.includes(name))
    .filter((name) => existsSync(path.join(repoRoot, 'services', name, 'prisma', 'schema.prisma')))
    .sort(),
];

// The CLI only needs a well-formed URL to generate; without one it falls back to
// downloading a native engine, which fails offline (see ENVIRONMENT.md).
const PLACEHOLDER_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

/**
 * The database URL a service runs with: <NAME>_DATABASE_URL, else the local default, the
 * service's own runtime role (shared/runtime/src/local-defaults.ts), which may read and
 * write the service's tables and nothing more.
 */
export function databaseUrlFor(service, env = process.env) {
  return (
    env[`${service.toUpperCase()}_DATABASE_URL`] ||
    `postgresql://${service}_service:${service}-local-only@127.0.0.1:5432/${service}`
  );
}

/**
 * The database URL `migrate` uses: <NAME>_MIGRATE_DATABASE_URL, else the local default, the
 * service's owner role, which owns the database and its tables. The service itself never
 * runs as the owner, so it cannot change or drop its own tables.
 */
export function migrateUrlFor(service, env = process.env) {
  return (
    env[`${service.toUpperCase()}_MIGRATE_DATABASE_URL`] ||
    `postgresql://${service}_owner:${service}-owner-local-only@127.0.0.1:5432/${service}`
  );
}

function findPrismaCli(serviceDir) {
  const bin = process.platform === 'win32' ? 'prisma.cmd' : 'prisma';
  const candidates = [
    path.join(serviceDir, 'node_modules', '.bin', bin),
    path.join(repoRoot, 'node_modules', '.bin', bin),
  ];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) {
    throw new Error(
      `Prisma CLI not found (looked in ${candidates.join(', ')}). Run \`npm ci\` at the repo root first.`,
    );
  }
  return found;
}

function redact(url) {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

function prismaCliOf(service) {
  const serviceDir = path.join(repoRoot, 'services', service);
  if (!existsSync(path.join(serviceDir, 'prisma', 'schema.prisma'))) {
    throw new Error(`services/${service}/prisma/schema.prisma is missing.`);
  }
  return { serviceDir, cli: findPrismaCli(serviceDir) };
}

function runPrisma(service, args, databaseUrl) {
  const { serviceDir, cli } = prismaCliOf(service);
  const result = spawnSync(cli, args, {
    cwd: serviceDir,
    stdio: 'inherit',
    // The update check would reach out to the internet on every run.
    env: { CHECKPOINT_DISABLE: '1', ...process.env, DATABASE_URL: databaseUrl },
  });
  if (result.error) {
    throw new Error(`could not run ${cli}: ${result.error.message}`);
  }
  if (result.status !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with ${result.status}`;
    throw new Error(
      `\`prisma ${args.join(' ')}\` for ${service} ${how} (DATABASE_URL=${redact(databaseUrl)}).`,
    );
  }
}

/**
 * `prisma migrate deploy` for one service, its output prefixed with the service's name.
 * They run at once: each CLI lingers about ten seconds after its work before it exits.
 */
function migrate(service) {
  const url = migrateUrlFor(service);
  const { serviceDir, cli } = prismaCliOf(service);
  console.log(`[prisma] ${service}: migrate deploy -> ${redact(url)}`);
  return new Promise((resolve, reject) => {
    const child = spawn(cli, ['migrate', 'deploy'], {
      cwd: serviceDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { CHECKPOINT_DISABLE: '1', ...process.env, DATABASE_URL: url },
    });
    let output = '';
    const collect = (chunk) => {
      output += chunk;
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => reject(new Error(`could not run ${cli}: ${error.message}`)));
    child.on('close', (code, signal) => {
      const lines = output.split('\n').filter((line) => line.trim() !== '');
      const summary = lines.filter((line) => /migration|applied|error/i.test(line));
      for (const line of code === 0 ? summary : lines) console.log(`[prisma] ${service}: ${line}`);
      if (code === 0) resolve();
      else {
        const how = signal ? `was killed by ${signal}` : `exited with ${code}`;
        reject(
          new Error(
            `\`prisma migrate deploy\` for ${service} ${how} (DATABASE_URL=${redact(url)}).`,
          ),
        );
      }
    });
  });
}

const commands = {
  generate(service) {
    runPrisma(service, ['generate'], process.env.DATABASE_URL || PLACEHOLDER_URL);
  },
  migrate,
};

/** Runs `command` for the given services (all when none are given); resolves when done. */
export function runForServices(command, services = SERVICES) {
  const run = commands[command];
  if (!run) {
    throw new Error(
      `unknown command "${command}"; use one of: ${Object.keys(commands).join(', ')}`,
    );
  }
  const unknown = services.filter((service) => !SERVICES.includes(service));
  if (unknown.length > 0) {
    throw new Error(`unknown service(s): ${unknown.join(', ')}; known: ${SERVICES.join(', ')}`);
  }
  if (command === 'migrate') {
    return Promise.all(services.map((service) => run(service))).then(() => undefined);
  }
  for (const service of services) run(service);
  return Promise.resolve();
}

function main(argv) {
  const [command, ...services] = argv;
  if (!command || command === '-h' || command === '--help') {
    console.log('usage: node scripts/prisma.mjs <generate|migrate> [service...] | list');
    process.exit(command ? 0 : 2);
  }
  // The services with a database, one a line (scripts/servers.sh reads them).
  if (command === 'list') {
    console.log(SERVICES.join('\n'));
    return;
  }
  runForServices(command, services.length > 0 ? services : SERVICES).catch((error) => {
    console.error(`\n[prisma] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2));
}
