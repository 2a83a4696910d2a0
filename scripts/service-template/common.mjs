// Shared by scripts/new-service.mjs and scripts/remove-service.mjs: names, the template,
// and the regeneration of what is derived from the shared packages.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './edits.mjs';

export { ROOT };
export const TEMPLATE = path.join(ROOT, 'templates/consumer-service');
export const LAB_SOLUTION = path.join(ROOT, 'templates/consumer-service-lab-solution');
/** Written into the generated package.json: remove-service removes only such services. */
export const TEMPLATE_MARK = 'templates/consumer-service';

// Names a service may not take: the folders, compose services, users and databases of the
// system that are not services, and words the tools give a meaning of their own.
const RESERVED = new Set([
  'admin',
  'all',
  'app',
  'bench',
  'dashboard',
  'demo',
  'docs',
  'e2e',
  'grafana',
  'guest',
  'infra',
  'jaeger',
  'messaging',
  'migrate',
  'node',
  'observer',
  'postgres',
  'prometheus',
  'public',
  'rabbitmq',
  'root',
  'scripts',
  'service',
  'services',
  'shared',
  'template',
  'templates',
  'test',
  'tests',
  'tools',
]);

/**
 * Why `name` cannot be a new service's name, or undefined when it can. One lowercase word:
 * the name is also the service's database, its Postgres roles (`<name>_owner`), its broker
 * user, its queues' prefix and its environment variables' prefix (`<NAME>_PORT`), where a
 * dash or a capital would need quoting or would not survive.
 */
export function problemWithName(name) {
  if (!name) return 'give the new service a name, for example: npm run new-service -- loyalty';
  if (!/^[a-z][a-z0-9]*$/.test(name))
    return `"${name}" is not a valid service name: use one lowercase word of letters and digits, starting with a letter (for example "loyalty"); the name is also a database, Postgres roles, a broker user and an environment prefix, where dashes, underscores or capitals do not survive`;
  if (name.length < 3 || name.length > 20)
    return `"${name}" is not a valid service name: use 3 to 20 characters`;
  if (name.startsWith('test'))
    return `"${name}" is reserved: names starting with "test" mark throw-away test databases and vhosts`;
  if (RESERVED.has(name))
    return `"${name}" is reserved: it names a part of the system that is not a service`;
  return undefined;
}

/** The placeholder values for a service name. */
export function contextOf(name, port) {
  return {
    name,
    Name: name[0].toUpperCase() + name.slice(1),
    NAME: name.toUpperCase(),
    port,
  };
}

/** Renders a template text: __name__, __Name__, __NAME__, __port__. */
export function render(text, ctx) {
  return text
    .replaceAll('__name__', ctx.name)
    .replaceAll('__Name__', ctx.Name)
    .replaceAll('__NAME__', ctx.NAME)
    .replaceAll('__port__', String(ctx.port));
}

/** Every file below `dir`, relative to it. */
export function filesBelow(dir, prefix = '') {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(prefix, entry.name);
    return entry.isDirectory() ? filesBelow(dir, relative) : [relative];
  });
}

/** The HTTP ports the services take by default (`serviceEnvSchema('<name>', <port>)`), and the dashboard's 3000. */
export function takenPorts() {
  const ports = new Set([3000]);
  for (const service of readdirSync(path.join(ROOT, 'services'))) {
    const config = path.join(ROOT, 'services', service, 'src/config.ts');
    if (!existsSync(config)) continue;
    const found = readFileSync(config, 'utf8').match(/serviceEnvSchema\(\s*'[^']+',\s*(\d+)/);
    if (found) ports.add(Number(found[1]));
  }
  return ports;
}

/** Runs a command at the repository root; throws with its output when it fails. */
export function run(command, args, { quiet = false } = {}) {
  const result = spawnSync(command, args, {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    env: { ...process.env, CHECKPOINT_DISABLE: '1' },
  });
  if (result.error) throw new Error(`could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) {
    const output = quiet ? `\n${result.stdout}${result.stderr}` : '';
    throw new Error(`\`${command} ${args.join(' ')}\` failed (exit ${result.status})${output}`);
  }
}

const bin = (tool) => path.join(ROOT, 'node_modules/.bin', tool);

/** prettier --write on the given paths (relative to the root). */
export const format = (paths) =>
  paths.length > 0 && run(bin('prettier'), ['--write', '--log-level', 'warn', ...paths]);

/**
 * Regenerates what follows from the shared packages: their build (the generators read
 * dist), the contract documents (docs/asyncapi.yaml and others list every queue) and
 * the broker definitions (one user per service).
 */
export function regenerate(log) {
  log('building the shared packages (tsc -b shared/testing)');
  run(bin('tsc'), ['-b', 'shared/testing']);
  log('regenerating the contract documents (docs/asyncapi.yaml, docs/asyncapi.html)');
  run('node', ['scripts/contracts.mjs', 'generate'], { quiet: true });
  log('regenerating infra/rabbitmq/definitions.json');
  run('node', ['scripts/broker-definitions.mjs'], { quiet: true });
  format(['infra/rabbitmq/definitions.json']);
}

/**
 * Brings package-lock.json in step with the workspaces (a new workspace is a new entry):
 * npm install without the network, so nothing but the lock's workspace entries and
 * node_modules/@app change. NEW_SERVICE_LOCK_ONLY=1 leaves node_modules alone (the check
 * in a scratch copy, whose node_modules points into the real one).
 */
export function syncLockfile(log) {
  const lockOnly = process.env.NEW_SERVICE_LOCK_ONLY === '1';
  log(
    `updating package-lock.json${lockOnly ? '' : ' and node_modules/@app'} (npm install --offline)`,
  );
  run(
    'npm',
    [
      'install',
      '--offline',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      ...(lockOnly ? ['--package-lock-only'] : []),
    ],
    { quiet: true },
  );
}
