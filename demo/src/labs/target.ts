import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'pg';
import { localDatabaseUrl } from '@app/runtime';
import { REPO_ROOT, type RunningSystem } from '@app/testing';
import type { LabTarget } from './lab';

/** Written by `make lab-reset`: when the current lab began. */
export const SINCE_FILE = path.join(REPO_ROOT, '.run', 'lab-since');

/** The ports of `make up` (scripts/services.sh); `<NAME>_PORT` overrides one, as there. */
const PORTS: Record<string, number> = {
  dashboard: 3000,
  order: 3001,
  invoicing: 3002,
  shipping: 3003,
  statistics: 3004,
  payment: 3005,
};

/** A generated service's port (lab 8): the default in its config.ts, as services.sh reads it. */
function configuredPort(service: string): number | undefined {
  try {
    const config = readFileSync(
      path.join(REPO_ROOT, 'services', service, 'src', 'config.ts'),
      'utf8',
    );
    const port = /serviceEnvSchema\(\s*'[^']+'\s*,\s*(\d+)/.exec(config)?.[1];
    return port === undefined ? undefined : Number(port);
  } catch {
    return undefined;
  }
}

/** Lab 6's second Invoicing (docs/workshop/labs/06-competing-consumers.md). */
const MORE_INSTANCES: Record<string, string[]> = { invoicing: ['http://127.0.0.1:3012'] };

const run = promisify(execFile);

async function gitDiffStat(relative: string): Promise<string> {
  const { stdout } = await run('git', ['diff', '--stat', 'HEAD', '--', relative], {
    cwd: REPO_ROOT,
  });
  return stdout;
}

/**
 * The system `make up` started: its services on their usual ports, each database read
 * through the service's own role (`<NAME>_DATABASE_URL` overrides, as for the service).
 */
export class MakeUpTarget implements LabTarget {
  readonly since: Date;
  /** True when `make lab-reset` has not been run: the checks look at the last day. */
  readonly sinceGuessed: boolean;
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {
    const recorded = readSince();
    this.sinceGuessed = recorded === undefined;
    this.since = recorded ?? new Date(Date.now() - 24 * 3600_000);
  }

  url(service: string): string {
    const port =
      this.env[`${service.toUpperCase()}_PORT`] ??
      String(PORTS[service] ?? configuredPort(service) ?? 0);
    return `http://127.0.0.1:${port}`;
  }

  async query<R extends Record<string, unknown>>(
    service: string,
    sql: string,
    values: unknown[] = [],
  ): Promise<R[]> {
    let pool = this.pools.get(service);
    if (!pool) {
      const url = this.env[`${service.toUpperCase()}_DATABASE_URL`] ?? localDatabaseUrl(service);
      pool = new Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5_000 });
      pool.on('error', () => undefined);
      this.pools.set(service, pool);
    }
    return (await pool.query<R>(sql, values)).rows;
  }

  moreInstances(service: string): string[] {
    const listed = this.env[`LAB_${service.toUpperCase()}_INSTANCES`];
    return listed ? listed.split(',').map((url) => url.trim()) : (MORE_INSTANCES[service] ?? []);
  }

  diffStat(relative: string): Promise<string> {
    return gitDiffStat(relative);
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.end()));
  }
}

/** The time `make lab-reset` recorded, if it ran. */
export function readSince(): Date | undefined {
  try {
    const at = new Date(readFileSync(SINCE_FILE, 'utf8').trim());
    return Number.isNaN(at.getTime()) ? undefined : at;
  } catch {
    return undefined;
  }
}

/** A system the tests started (its services, databases and instances), since `since`. */
export function systemTarget(system: RunningSystem, since: Date): LabTarget {
  return {
    since,
    // A service the system does not run answers nowhere, as a stopped one would.
    url: (service) =>
      system.isRunning(service as Parameters<RunningSystem['url']>[0])
        ? system.url(service as Parameters<RunningSystem['url']>[0])
        : 'http://127.0.0.1:1',
    query: (service, sql, values = []) =>
      system.databases[service as keyof RunningSystem['databases']].query(sql, values),
    moreInstances: (service) =>
      system
        .instances(service as Parameters<RunningSystem['instances']>[0])
        .slice(1)
        .map((instance) => instance.url),
    diffStat: gitDiffStat,
  };
}
