import { randomBytes } from 'node:crypto';
import amqplib from 'amqplib';
import { Client } from 'pg';
import { redact } from '@app/broker';
import { containerRuntimeProblem, startServerContainers, type ContainerReport } from './containers';

/** Where the integration and end-to-end tests find a broker and a database server. */
export interface Infrastructure {
  /** AMQP URL of a user allowed to create vhosts' contents, without a vhost path. */
  rabbitmqUrl: string;
  /** HTTP management API, when vhosts are to be made through it instead of rabbitmqctl. */
  rabbitmqManagementUrl?: string;
  /** A Postgres superuser (or CREATEDB role) URL. */
  postgresUrl: string;
  source: 'environment' | 'testcontainers' | 'local';
  /** The broker's container, when testcontainers started it: `rabbitmqctl` runs inside it. */
  rabbitmqContainerId?: string;
  /** The database server's container, when testcontainers started it. */
  postgresContainerId?: string;
}

export const LOCAL_DEFAULTS = {
  rabbitmqUrl: 'amqp://guest:guest@127.0.0.1:5672',
  postgresUrl: 'postgresql://postgres@127.0.0.1:5432/postgres',
} as const;

/** How a run picks its servers: `auto` (the default), or one path forced. */
export type ServersMode = 'auto' | 'local' | 'containers';

/** The variables the choice is published in, to jest's workers and to nested jest runs. */
const ENV = {
  rabbitmqUrl: 'TEST_RABBITMQ_URL',
  rabbitmqManagementUrl: 'TEST_RABBITMQ_MANAGEMENT_URL',
  postgresUrl: 'TEST_POSTGRES_URL',
  source: 'TEST_INFRASTRUCTURE_SOURCE',
  rabbitmqContainerId: 'TEST_RABBITMQ_CONTAINER_ID',
  postgresContainerId: 'TEST_POSTGRES_CONTAINER_ID',
  runId: 'TEST_RUN_ID',
  mode: 'TEST_SERVERS',
} as const;

/** The infrastructure chosen by the global set-up, as published to the test workers. */
export function currentInfrastructure(): Infrastructure {
  const env = process.env;
  return {
    rabbitmqUrl: env[ENV.rabbitmqUrl] || LOCAL_DEFAULTS.rabbitmqUrl,
    postgresUrl: env[ENV.postgresUrl] || LOCAL_DEFAULTS.postgresUrl,
    ...(env[ENV.rabbitmqManagementUrl]
      ? { rabbitmqManagementUrl: env[ENV.rabbitmqManagementUrl] }
      : {}),
    source: (env[ENV.source] as Infrastructure['source'] | undefined) || 'local',
    ...(env[ENV.rabbitmqContainerId] ? { rabbitmqContainerId: env[ENV.rabbitmqContainerId] } : {}),
    ...(env[ENV.postgresContainerId] ? { postgresContainerId: env[ENV.postgresContainerId] } : {}),
  };
}

/** The id of this test run (one `npm test`, or one jest run started alone): labels and file names. */
export function testRunId(): string {
  const id =
    process.env[ENV.runId] || `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  process.env[ENV.runId] = id;
  return id;
}

export function serversMode(): ServersMode {
  const mode = (process.env[ENV.mode] || 'auto').toLowerCase();
  if (mode === 'auto' || mode === 'local' || mode === 'containers') return mode;
  throw new Error(`TEST_SERVERS=${mode}: expected auto, local or containers`);
}

/**
 * False when the run certainly uses containers (handed over, or TEST_SERVERS=containers):
 * then nothing may touch the machine's own servers, not even before the choice is made.
 */
export function mayUseLocalServers(): boolean {
  const handedOver = process.env[ENV.source];
  if (handedOver) return handedOver !== 'testcontainers';
  return serversMode() !== 'containers';
}

export interface ResolvedInfrastructure {
  infrastructure: Infrastructure;
  /** Stops what this resolution started (the containers); nothing for servers it found. */
  stop: () => Promise<void>;
  /** Why these servers: printed first by the run. */
  why: string;
  /** False when an outer run chose and published them (`npm test` around two jest runs). */
  chosenHere: boolean;
  containers?: ContainerReport;
}

/**
 * Chooses the servers, in this order:
 * 1. those an outer run already chose and published (TEST_INFRASTRUCTURE_SOURCE and the URLs);
 * 2. with TEST_SERVERS=containers: containers started with testcontainers, whatever else answers;
 * 3. those named by TEST_RABBITMQ_URL and TEST_POSTGRES_URL;
 * 4. with TEST_SERVERS=local: the local defaults (127.0.0.1:5672, :5432);
 * 5. containers, where a container runtime answers (DESIGN section 8);
 * 6. the local defaults, when both answer.
 * Fails with a message saying what was tried when none answers. Publishes the choice in
 * the environment, where jest's workers (started afterwards) and child processes read it.
 */
export async function resolveInfrastructure(): Promise<ResolvedInfrastructure> {
  const env = process.env;
  const mode = serversMode();
  const noop = async (): Promise<void> => undefined;
  let resolved: ResolvedInfrastructure;
  if (env[ENV.source] && env[ENV.rabbitmqUrl] && env[ENV.postgresUrl]) {
    resolved = {
      infrastructure: currentInfrastructure(),
      stop: noop,
      why: 'chosen by the run that started this one',
      chosenHere: false,
    };
  } else if (mode === 'containers') {
    resolved = await fromContainers(
      'TEST_SERVERS=containers (local servers and TEST_*_URL ignored)',
    );
  } else if (env[ENV.rabbitmqUrl] || env[ENV.postgresUrl]) {
    resolved = {
      infrastructure: { ...currentInfrastructure(), source: 'environment' },
      stop: noop,
      why: 'named by TEST_RABBITMQ_URL / TEST_POSTGRES_URL',
      chosenHere: true,
    };
  } else if (mode === 'local') {
    resolved = {
      infrastructure: { ...LOCAL_DEFAULTS, source: 'local' },
      stop: noop,
      why: 'TEST_SERVERS=local',
      chosenHere: true,
    };
  } else {
    // DESIGN section 8: containers where a container runtime answers, else the local servers.
    const runtime = await containerRuntimeProblem();
    if (runtime === undefined) {
      resolved = await fromContainers(
        'a container runtime answers (TEST_SERVERS=local uses the local servers instead)',
      );
    } else {
      const localProblems = await serverProblems(
        LOCAL_DEFAULTS.rabbitmqUrl,
        LOCAL_DEFAULTS.postgresUrl,
        {
          rabbitmq: 'TEST_RABBITMQ_URL',
          postgres: 'TEST_POSTGRES_URL',
        },
      );
      if (localProblems.length > 0) {
        throw new Error(
          'The integration tests need a real RabbitMQ and Postgres, and found neither a container runtime nor local servers:\n' +
            [
              `No container runtime answers (${runtime}): start Docker, or run \`make test-containers\` on the project's machines.`,
              ...localProblems,
            ]
              .map((p) => `  - ${p}`)
              .join('\n'),
        );
      }
      resolved = {
        infrastructure: { ...LOCAL_DEFAULTS, source: 'local' },
        stop: noop,
        why: `no container runtime answers (${runtime.split(' (')[0]}) and both local servers do`,
        chosenHere: true,
      };
    }
  }
  try {
    await assertReachable(resolved.infrastructure);
  } catch (err) {
    await resolved.stop();
    throw err;
  }
  publish(resolved.infrastructure);
  return resolved;
}

async function fromContainers(why: string): Promise<ResolvedInfrastructure> {
  const started = await startServerContainers(testRunId());
  return {
    infrastructure: { ...started.servers, source: 'testcontainers' },
    stop: started.stop,
    why,
    chosenHere: true,
    containers: started.report,
  };
}

function publish(infrastructure: Infrastructure): void {
  const env = process.env;
  env[ENV.rabbitmqUrl] = infrastructure.rabbitmqUrl;
  env[ENV.postgresUrl] = infrastructure.postgresUrl;
  env[ENV.source] = infrastructure.source;
  const optional = [
    [ENV.rabbitmqManagementUrl, infrastructure.rabbitmqManagementUrl],
    [ENV.rabbitmqContainerId, infrastructure.rabbitmqContainerId],
    [ENV.postgresContainerId, infrastructure.postgresContainerId],
  ] as const;
  for (const [name, value] of optional) {
    if (value) env[name] = value;
    else delete env[name];
  }
}

/** The lines a run prints first: which servers it uses, why, and what the containers cost. */
export function describeServers(resolved: ResolvedInfrastructure): string[] {
  const { infrastructure: infra, containers } = resolved;
  const lines = [
    `test servers: ${infra.source} (${resolved.why})`,
    `  RabbitMQ  ${redact(infra.rabbitmqUrl)}${infra.rabbitmqContainerId ? `  [container ${infra.rabbitmqContainerId.slice(0, 12)}, ${containers?.images.rabbitmq ?? 'image as started'}]` : ''}`,
    `  Postgres  ${redact(infra.postgresUrl)}${infra.postgresContainerId ? `  [container ${infra.postgresContainerId.slice(0, 12)}, ${containers?.images.postgres ?? 'image as started'}]` : ''}`,
  ];
  if (containers) {
    const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
    lines.push(
      `  containers ready in ${s(containers.readyMs.total)} (RabbitMQ ${s(containers.readyMs.rabbitmq)}, Postgres ${s(containers.readyMs.postgres)}), one of each for the whole run`,
      `  clean-up: ${containers.ryuk.enabled ? 'Ryuk' : 'the harness (tear-down, signals, and a label sweep at the next start)'}: ${containers.ryuk.why}`,
    );
    if (containers.swept.length > 0) {
      lines.push(`  removed leftovers of interrupted runs: ${containers.swept.join(', ')}`);
    }
  }
  return lines;
}

async function assertReachable(infrastructure: Infrastructure): Promise<void> {
  const problems = await serverProblems(infrastructure.rabbitmqUrl, infrastructure.postgresUrl, {
    rabbitmq: 'TEST_RABBITMQ_URL',
    postgres: 'TEST_POSTGRES_URL',
  });
  if (problems.length > 0) {
    throw new Error(
      `The integration tests need a real RabbitMQ and Postgres (source: ${infrastructure.source}).\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
  }
}

/**
 * Says which of the two servers does not answer, each with how to start it or which
 * variable (`variables`) points elsewhere; empty when both answer.
 */
export async function serverProblems(
  rabbitmqUrl: string,
  postgresUrl: string,
  variables: { rabbitmq: string; postgres: string },
): Promise<string[]> {
  const problems: string[] = [];
  try {
    const connection = await amqplib.connect(rabbitmqUrl, { timeout: 5_000 });
    await connection.close();
  } catch (err) {
    problems.push(
      `RabbitMQ does not answer at ${redact(rabbitmqUrl)} (${(err as Error).message}). ` +
        `Start it (\`rabbitmq-server -detached\`) or set ${variables.rabbitmq}.`,
    );
  }
  const client = new Client({ connectionString: postgresUrl, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    problems.push(
      `Postgres does not answer at ${redact(postgresUrl)} (${(err as Error).message}). ` +
        `Start it (\`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\`) or set ${variables.postgres}.`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
  return problems;
}

export { redact };
