import amqplib from 'amqplib';
import { Client } from 'pg';
import { redact } from '@app/broker';

/** Where the integration and end-to-end tests find a broker and a database server. */
export interface Infrastructure {
  /** AMQP URL of a user allowed to create vhosts' contents, without a vhost path. */
  rabbitmqUrl: string;
  /** HTTP management API, when vhosts are to be made through it instead of rabbitmqctl. */
  rabbitmqManagementUrl?: string;
  /** A Postgres superuser (or CREATEDB role) URL. */
  postgresUrl: string;
  source: 'environment' | 'testcontainers' | 'local';
}

export const LOCAL_DEFAULTS = {
  rabbitmqUrl: 'amqp://guest:guest@127.0.0.1:5672',
  postgresUrl: 'postgresql://postgres@127.0.0.1:5432/postgres',
} as const;

const ENV = {
  rabbitmqUrl: 'TEST_RABBITMQ_URL',
  rabbitmqManagementUrl: 'TEST_RABBITMQ_MANAGEMENT_URL',
  postgresUrl: 'TEST_POSTGRES_URL',
  source: 'TEST_INFRASTRUCTURE_SOURCE',
} as const;

/** The infrastructure chosen by the global set-up, as published to the test workers. */
export function currentInfrastructure(): Infrastructure {
  const rabbitmqUrl = process.env[ENV.rabbitmqUrl] ?? LOCAL_DEFAULTS.rabbitmqUrl;
  const postgresUrl = process.env[ENV.postgresUrl] ?? LOCAL_DEFAULTS.postgresUrl;
  const managementUrl = process.env[ENV.rabbitmqManagementUrl];
  return {
    rabbitmqUrl,
    postgresUrl,
    ...(managementUrl ? { rabbitmqManagementUrl: managementUrl } : {}),
    source: (process.env[ENV.source] as Infrastructure['source'] | undefined) ?? 'local',
  };
}

/**
 * Chooses the servers, in this order: those named by TEST_RABBITMQ_URL and
 * TEST_POSTGRES_URL; containers started with testcontainers where a container runtime
 * answers; the local defaults. Fails with a message saying what was tried when none answers.
 */
export async function resolveInfrastructure(): Promise<{
  infrastructure: Infrastructure;
  stop: () => Promise<void>;
}> {
  const fromEnv = process.env[ENV.rabbitmqUrl] || process.env[ENV.postgresUrl];
  let infrastructure: Infrastructure;
  let stop = async (): Promise<void> => undefined;
  if (fromEnv) {
    infrastructure = { ...currentInfrastructure(), source: 'environment' };
  } else {
    const containers = await startContainers();
    if (containers) {
      infrastructure = containers.infrastructure;
      stop = containers.stop;
    } else {
      infrastructure = { ...LOCAL_DEFAULTS, source: 'local' };
    }
  }
  await assertReachable(infrastructure);
  process.env[ENV.rabbitmqUrl] = infrastructure.rabbitmqUrl;
  process.env[ENV.postgresUrl] = infrastructure.postgresUrl;
  process.env[ENV.source] = infrastructure.source;
  if (infrastructure.rabbitmqManagementUrl) {
    process.env[ENV.rabbitmqManagementUrl] = infrastructure.rabbitmqManagementUrl;
  }
  return { infrastructure, stop };
}

async function startContainers(): Promise<
  { infrastructure: Infrastructure; stop: () => Promise<void> } | undefined
> {
  const testcontainers = await import('testcontainers');
  try {
    await testcontainers.getContainerRuntimeClient();
  } catch (err) {
    if (/container runtime/i.test(String((err as Error)?.message))) return undefined;
    throw err;
  }
  const { GenericContainer, Wait } = testcontainers;
  const [rabbit, postgres] = await Promise.all([
    new GenericContainer('rabbitmq:3.10-management')
      .withExposedPorts(5672, 15672)
      .withWaitStrategy(Wait.forLogMessage(/Server startup complete/))
      .start(),
    new GenericContainer('postgres:15')
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
      .withExposedPorts(5432)
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start(),
  ]);
  const host = rabbit.getHost();
  return {
    infrastructure: {
      rabbitmqUrl: `amqp://guest:guest@${host}:${rabbit.getMappedPort(5672)}`,
      rabbitmqManagementUrl: `http://guest:guest@${host}:${rabbit.getMappedPort(15672)}`,
      postgresUrl: `postgresql://postgres@${postgres.getHost()}:${postgres.getMappedPort(5432)}/postgres`,
      source: 'testcontainers',
    },
    stop: async () => {
      await Promise.all([rabbit.stop(), postgres.stop()]);
    },
  };
}

async function assertReachable(infrastructure: Infrastructure): Promise<void> {
  const problems = await serverProblems(infrastructure.rabbitmqUrl, infrastructure.postgresUrl, {
    rabbitmq: 'TEST_RABBITMQ_URL',
    postgres: 'TEST_POSTGRES_URL',
  });
  if (problems.length > 0) {
    throw new Error(
      `The integration tests need a real RabbitMQ and Postgres (source: ${infrastructure.source}; no container runtime was found).\n` +
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
