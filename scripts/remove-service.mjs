#!/usr/bin/env node
// Removes a service made by `npm run new-service`: its folder, its entries in the lists
// outside it (scripts/service-template/edits.mjs), and regenerates what follows from them.
//
//   npm run remove-service -- <name> [--keep-data]
//
// It stops the service if `make up` (scripts/services.sh) runs it, and drops what `make setup`
// and `make up` made for it on the local servers: its database, its two Postgres roles, its
// broker user and its queues on the vhost messaging. --keep-data leaves those.
// Only services generated from templates/consumer-service are removed.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import {
  ROOT,
  TEMPLATE_MARK,
  contextOf,
  format,
  problemWithName,
  regenerate,
  syncLockfile,
} from './service-template/common.mjs';
import { presentIn, runEdits } from './service-template/edits.mjs';

const log = (line) => console.log(`[remove-service] ${line}`);

function fail(message) {
  console.error(`[remove-service] ${message}\n[remove-service] nothing was changed.`);
  process.exit(1);
}

/** Stops the service if `make up` started it (scripts/services.sh); quiet when it does not run. */
function stopIfRunning(name) {
  try {
    const output = execFileSync('scripts/services.sh', ['stop', name], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (/stopped|SIGTERM/.test(output)) log(`${name}: stopped (it ran under make up)`);
  } catch (err) {
    log(`could not stop ${name} with scripts/services.sh (${err.message.split('\n')[0]})`);
  }
}

async function purge(name) {
  const adminUrl =
    process.env.POSTGRES_ADMIN_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const id = (value) => client.escapeIdentifier(value);
    await client.query(`DROP DATABASE IF EXISTS ${id(name)} WITH (FORCE)`);
    for (const role of [`${name}_service`, `${name}_owner`]) {
      const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      if (rowCount === 0) continue;
      // Privileges granted to the role elsewhere (the maintenance database) go first.
      await client.query(`DROP OWNED BY ${id(role)}`);
      await client.query(`DROP ROLE ${id(role)}`);
    }
    log(`Postgres: database ${name} and roles ${name}_owner, ${name}_service dropped`);
  } catch (err) {
    log(`Postgres: could not drop database ${name} and its roles (${err.message})`);
  } finally {
    await client.end().catch(() => undefined);
  }
  try {
    const users = execFileSync('rabbitmqctl', ['-q', 'list_users', '--formatter', 'json'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (JSON.parse(users).some((user) => user.user === name)) {
      execFileSync('rabbitmqctl', ['-q', 'delete_user', name], { stdio: 'pipe' });
      log(`RabbitMQ: user ${name} deleted`);
    }
    const vhost = 'messaging';
    const queues = execFileSync(
      'rabbitmqctl',
      ['-q', 'list_queues', '-p', vhost, 'name', '--formatter', 'json'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const own = JSON.parse(queues || '[]')
      .map((queue) => queue.name)
      .filter((queue) => queue.startsWith(`${name}.`));
    for (const queue of own)
      execFileSync('rabbitmqctl', ['-q', 'delete_queue', '-p', vhost, queue], { stdio: 'pipe' });
    if (own.length > 0) log(`RabbitMQ: its queues on vhost ${vhost} deleted: ${own.join(', ')}`);
  } catch (err) {
    log(
      `RabbitMQ: could not delete user ${name} or its queues with rabbitmqctl (${err.message.split('\n')[0]})`,
    );
  }
}

async function main(argv) {
  const purgeData = !argv.includes('--keep-data');
  const names = argv.filter((arg) => !arg.startsWith('-'));
  const unknown = argv.filter((arg) => arg.startsWith('-') && arg !== '--keep-data');
  if (unknown.length > 0)
    fail(
      `unknown option ${unknown.join(' ')}; usage: npm run remove-service -- <name> [--keep-data]`,
    );
  if (names.length !== 1) fail('usage: npm run remove-service -- <name> [--keep-data]');
  const [name] = names;
  const problem = problemWithName(name);
  if (problem) fail(problem);

  const target = path.join(ROOT, 'services', name);
  const manifest = path.join(target, 'package.json');
  if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).template !== TEMPLATE_MARK)
    fail(
      `services/${name} was not made by npm run new-service (its package.json has no "template": "${TEMPLATE_MARK}"); remove it by hand`,
    );
  const ctx = contextOf(name, readPort(target));
  const present = presentIn(ctx);
  if (!existsSync(target) && present.length === 0) fail(`there is no service "${name}" to remove`);

  // While its files are there: services.sh finds the service by them.
  if (existsSync(path.join(target, 'src/main.ts'))) stopIfRunning(name);
  // First, so that what the local servers hold goes even if a step below fails.
  if (purgeData) await purge(name);
  rmSync(target, { recursive: true, force: true });
  log(`services/${name}: removed`);
  const reverted = runEdits(ctx, 'revert');
  for (const edit of reverted) log(`${edit.file}: ${name} taken out`);
  const left = presentIn(ctx);
  format(reverted.filter((edit) => edit.format).map((edit) => edit.file));
  regenerate(log);
  syncLockfile(log);
  if (!purgeData)
    log(
      `--keep-data: its database "${name}", roles ${name}_owner/${name}_service, broker user ${name} and queues ${name}.* stay where \`make setup\` and \`make up\` made them`,
    );
  if (left.length > 0) {
    console.error(
      `[remove-service] edited by hand since, so left for you to take out: ${name} in ${left.map((edit) => edit.file).join(', ')}`,
    );
    process.exit(1);
  }
}

/** The generated service's port, which its compose entry names; 0 when it is gone. */
function readPort(target) {
  const config = path.join(target, 'src/config.ts');
  if (existsSync(config)) {
    const found = readFileSync(config, 'utf8').match(/serviceEnvSchema\(\s*'[^']+',\s*(\d+)/);
    if (found) return Number(found[1]);
  }
  const compose = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
  const found = compose.match(
    new RegExp(`\\n  ${path.basename(target)}:\\n[\\s\\S]*?PORT: '(\\d+)'`),
  );
  return found ? Number(found[1]) : 0;
}

main(process.argv.slice(2)).catch((err) => {
  console.error(`[remove-service] failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
