import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Stopping and starting the machine's own Postgres cluster with `pg_ctlcluster` (Debian's
 * postgresql-common), as a database restart or crash would. Every test file shares it, so
 * only the `faults-serial` jest project may call `stopPostgres`.
 */
async function cluster(): Promise<[version: string, name: string]> {
  const versions = await readdir('/etc/postgresql');
  if (versions.length !== 1) throw new Error(`expected one Postgres version, found ${versions}`);
  return [versions[0]!, 'main'];
}

export async function stopPostgres(): Promise<void> {
  await run(
    'pg_ctlcluster',
    ['--skip-systemctl-redirect', ...(await cluster()), 'stop', '-m', 'fast'],
    {
      timeout: 120_000,
    },
  );
}

/** Starts the cluster (a no-op when it runs) and waits until it accepts connections. */
export async function startPostgres(): Promise<void> {
  const [version, name] = await cluster();
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, 'start'], {
    timeout: 120_000,
  }).catch((err: { stdout?: string; stderr?: string }) => {
    if (!/already running/i.test(`${err.stdout} ${err.stderr}`)) throw err;
  });
  await run('pg_isready', ['-q', '-t', '60', '-h', '127.0.0.1'], { timeout: 90_000 });
}
