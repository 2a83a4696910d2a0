/**
 * `npm test`, `make test` and `make test-containers`: one choice of servers for the whole
 * run (one RabbitMQ and one Postgres container at most), then jest twice on them: the
 * parallel projects, then the serial fault tests, which stop the broker every file shares.
 *
 *   node shared/testing/dist/cli/run-tests.js [--setup] [--parallel-only|--serial-only] [-- JEST_ARGS...]
 *
 * --setup runs `make setup`'s scripts/setup.mjs on local servers too (containers always get it).
 * TEST_SERVERS=local|containers forces a path; TEST_RABBITMQ_URL / TEST_POSTGRES_URL name servers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../databases';
import { localContacts } from '../local-contacts';
import { prepareTestServers, type PreparedServers } from '../test-servers';

interface Options {
  setup: boolean;
  parallel: boolean;
  serial: boolean;
  jestArgs: string[];
}

function parse(argv: string[]): Options {
  const separator = argv.indexOf('--');
  const own = separator === -1 ? argv : argv.slice(0, separator);
  const jestArgs = separator === -1 ? [] : argv.slice(separator + 1);
  const known = new Set(['--setup', '--parallel-only', '--serial-only']);
  const unknown = own.filter((arg) => !known.has(arg));
  if (unknown.length > 0) {
    throw new Error(`unknown option(s) ${unknown.join(' ')}; jest's go after --`);
  }
  return {
    setup: own.includes('--setup'),
    parallel: !own.includes('--serial-only'),
    serial: !own.includes('--parallel-only'),
    jestArgs,
  };
}

let child: ChildProcess | undefined;

function jest(args: string[]): Promise<number> {
  const bin = require.resolve('jest/bin/jest', { paths: [REPO_ROOT] });
  return new Promise((resolve, reject) => {
    child = spawn(process.execPath, [bin, ...args], { cwd: REPO_ROOT, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      child = undefined;
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<number> {
  const options = parse(process.argv.slice(2));
  const startedAt = Date.now();
  let servers: PreparedServers | undefined;
  let stopping: Promise<void> | undefined;
  // One removal, awaited by whoever asks: a signal and the normal end may both get here.
  const stop = (): Promise<void> => {
    stopping ??= servers?.stop() ?? Promise.resolve();
    return stopping;
  };
  // Ctrl-C or a CI timeout: jest goes first, then the containers (no Ryuk here to do it).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\n[test] ${signal}: stopping jest and removing the test containers\n`);
      child?.kill('SIGTERM');
      void stop().finally(() => process.exit(128 + (signal === 'SIGINT' ? 2 : 15)));
    });
  }
  try {
    servers = await prepareTestServers({
      setup: options.setup,
      log: (line) => process.stdout.write(`[test] ${line}\n`),
    });
    const ready = Date.now();
    // Test-file patterns may leave one of the two runs with nothing to do.
    const jestArgs = ['--passWithNoTests', ...options.jestArgs];
    const runs: { name: string; args: string[] }[] = [];
    if (options.parallel) {
      runs.push({
        name: 'unit, integration, e2e',
        args: ['--selectProjects', 'unit', 'integration', 'e2e', ...jestArgs],
      });
    }
    if (options.serial) {
      runs.push({
        name: 'faults-serial',
        args: [
          '--selectProjects',
          'faults-serial',
          '--runInBand',
          '--testSequencer',
          path.join(REPO_ROOT, 'e2e', 'serial-sequencer.cjs'),
          ...jestArgs,
        ],
      });
    }
    const results: string[] = [];
    let failed = false;
    for (const run of runs) {
      const began = Date.now();
      const code = await jest(run.args);
      results.push(
        `${run.name}: ${code === 0 ? 'passed' : `failed (exit ${code})`} in ${seconds(Date.now() - began)}`,
      );
      if (code !== 0) failed = true;
      if (stopping) break;
    }
    const lines = [
      `servers: ${servers.infrastructure.source}${servers.containers ? ` (containers ready in ${seconds(servers.containers.readyMs.total)})` : ''}`,
      ...results,
    ];
    if (servers.tripwireFile) {
      const contacts = localContacts(servers.tripwireFile);
      if (contacts.length === 0) {
        lines.push(
          `tripwire: no process of the run reached this machine's own RabbitMQ or Postgres`,
        );
      } else {
        failed = true;
        lines.push(
          `tripwire: ${contacts.length} contact(s) with this machine's own servers (${path.relative(REPO_ROOT, servers.tripwireFile)}):`,
          ...contacts
            .slice(0, 10)
            .map(
              (c) => `  ${c.what} ${c.target} from ${c.process} (pid ${c.pid}) ${c.stack[0] ?? ''}`,
            ),
        );
      }
    }
    lines.push(
      `total ${seconds(Date.now() - startedAt)} (servers and set-up ${seconds(ready - startedAt)})`,
    );
    process.stdout.write(`\n${lines.map((line) => `[test] ${line}`).join('\n')}\n`);
    return failed ? 1 : 0;
  } finally {
    await stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[test] ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
