import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { freePort } from './ports';

/** The official images by default; the same variables as docker-compose.yml override them. */
export const DEFAULT_IMAGES = {
  rabbitmq: 'rabbitmq:3.10-management',
  postgres: 'postgres:15',
} as const;

/** Every container the harness starts carries these labels; the sweep finds leftovers by them. */
const LABEL = 'amr.test-servers';
const LABEL_RUN = `${LABEL}.run`;
const LABEL_OWNER = `${LABEL}.owner`;
/** A leftover of another machine (a remote engine) is swept only when older than this. */
const FOREIGN_LEFTOVER_AGE_MS = 12 * 60 * 60 * 1000;
const POSTGRES_PASSWORD = 'postgres';

/** What starting the containers cost, and how they are cleaned up. */
export interface ContainerReport {
  images: { rabbitmq: string; postgres: string };
  /** Milliseconds from `start()` until each server answered. */
  readyMs: { rabbitmq: number; postgres: number; total: number };
  /** Ryuk removes the containers if this process dies; without it the harness's own sweep does. */
  ryuk: { enabled: boolean; why: string };
  /** Leftover containers of earlier, interrupted runs removed before these were started. */
  swept: string[];
}

/** Where the containers' servers answer, as an `Infrastructure` of source `testcontainers` gives it. */
export interface ContainerServers {
  rabbitmqUrl: string;
  rabbitmqManagementUrl?: string;
  postgresUrl: string;
  rabbitmqContainerId: string;
  postgresContainerId: string;
}

export interface StartedServers {
  servers: ContainerServers;
  report: ContainerReport;
  stop: () => Promise<void>;
}

/** Resolves with the reason when no container runtime answers (testcontainers' own message). */
export async function containerRuntimeProblem(): Promise<string | undefined> {
  const { getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
    return undefined;
  } catch (err) {
    return (err as Error).message.split('\n')[0] ?? String(err);
  }
}

/**
 * Starts one RabbitMQ and one Postgres container for a test run (random host ports: the
 * machine's own servers keep theirs), after sweeping away the containers of earlier runs
 * that died without removing theirs. `runId` labels them.
 */
export async function startServerContainers(runId: string): Promise<StartedServers> {
  const { GenericContainer, Wait, getContainerRuntimeClient, ImageName } =
    await import('testcontainers');
  const client = await getContainerRuntimeClient();
  const swept = await sweepLeftovers();
  const ryuk = await decideRyuk(async (image) => {
    const name = ImageName.fromString(image);
    if (await client.image.exists(name)) return true;
    await withTimeout(
      client.image.pull(name),
      Number(process.env.RYUK_PULL_TIMEOUT_MS ?? 15_000),
      `pulling ${image}`,
    );
    return true;
  });
  const images = {
    rabbitmq: process.env.RABBITMQ_IMAGE || DEFAULT_IMAGES.rabbitmq,
    postgres: process.env.POSTGRES_IMAGE || DEFAULT_IMAGES.postgres,
  };
  const labels = { [LABEL]: 'true', [LABEL_RUN]: runId, [LABEL_OWNER]: ownerLabel() };
  const started = Date.now();
  const timed = async <T>(work: Promise<T>): Promise<{ value: T; ms: number }> => {
    const value = await work;
    return { value, ms: Date.now() - started };
  };
  const results = await Promise.allSettled([
    timed(
      new GenericContainer(images.rabbitmq)
        .withLabels(labels)
        .withExposedPorts(5672, 15672)
        // The official image logs the first, and prints the second; the stand-in only prints it.
        .withWaitStrategy(
          Wait.forLogMessage(/Server startup complete|Starting broker\.\.\. completed/),
        )
        .withStartupTimeout(180_000)
        .start(),
    ),
    timed(
      new GenericContainer(images.postgres)
        .withLabels(labels)
        .withEnvironment({ POSTGRES_PASSWORD })
        // A host port chosen once (a free one, never 5432): the fault test that stops
        // Postgres starts the container again, and an ephemeral binding could change then.
        .withExposedPorts({ container: 5432, host: await freePort() })
        // TCP, not the socket: the images' initialisation runs a socket-only server first.
        .withWaitStrategy(Wait.forSuccessfulCommand('pg_isready -q -h 127.0.0.1 -p 5432'))
        .withStartupTimeout(180_000)
        .start(),
    ),
  ]);
  const stopAll = async (): Promise<void> => {
    await Promise.all(
      results.map((result) =>
        result.status === 'fulfilled'
          ? result.value.value.stop({ timeout: 5_000 }).catch(() => undefined)
          : undefined,
      ),
    );
  };
  const [rabbitResult, postgresResult] = results;
  if (rabbitResult?.status !== 'fulfilled' || postgresResult?.status !== 'fulfilled') {
    await stopAll();
    const failures = [
      rabbitResult?.status === 'rejected'
        ? `RabbitMQ (${images.rabbitmq}): ${reason(rabbitResult.reason)}`
        : '',
      postgresResult?.status === 'rejected'
        ? `Postgres (${images.postgres}): ${reason(postgresResult.reason)}`
        : '',
    ].filter(Boolean);
    throw new Error(
      `could not start the test servers in containers:\n  - ${failures.join('\n  - ')}\n` +
        'Where the official images cannot be pulled, build stand-ins and name them: ' +
        '`make test-containers` does both (RABBITMQ_IMAGE / POSTGRES_IMAGE choose others).',
    );
  }
  const rabbit = rabbitResult.value.value;
  const postgres = postgresResult.value.value;
  const host = rabbit.getHost();
  const managementUrl = `http://guest:guest@${host}:${rabbit.getMappedPort(15672)}`;
  const servers: ContainerServers = {
    rabbitmqUrl: `amqp://guest:guest@${host}:${rabbit.getMappedPort(5672)}`,
    ...((await managementAnswers(managementUrl)) ? { rabbitmqManagementUrl: managementUrl } : {}),
    postgresUrl: `postgresql://postgres:${POSTGRES_PASSWORD}@${postgres.getHost()}:${postgres.getMappedPort(5432)}/postgres`,
    rabbitmqContainerId: rabbit.getId(),
    postgresContainerId: postgres.getId(),
  };
  return {
    servers,
    report: {
      images,
      readyMs: {
        rabbitmq: rabbitResult.value.ms,
        postgres: postgresResult.value.ms,
        total: Date.now() - started,
      },
      ryuk,
      swept,
    },
    stop: stopAll,
  };
}

/**
 * Removes the harness's containers left by runs that ended without removing them (killed,
 * interrupted): those whose owner process on this machine is gone, and those of other
 * machines older than half a day. Containers of a run still going are left alone, so two
 * runs can share one engine. Returns the short ids removed.
 */
export async function sweepLeftovers(): Promise<string[]> {
  const { getContainerRuntimeClient } = await import('testcontainers');
  const client = await getContainerRuntimeClient();
  const leftovers = await client.container.dockerode.listContainers({
    all: true,
    filters: { label: [`${LABEL}=true`] },
  });
  const removed: string[] = [];
  for (const info of leftovers) {
    if (ownerAlive(info.Labels[LABEL_OWNER] ?? '', info.Created * 1000)) continue;
    await client.container.dockerode
      .getContainer(info.Id)
      .remove({ force: true, v: true })
      .then(() => removed.push(info.Id.slice(0, 12)))
      .catch(() => undefined);
  }
  return removed;
}

/**
 * Ryuk (testcontainers' reaper) where its image is here or can be pulled; otherwise
 * `TESTCONTAINERS_RYUK_DISABLED=true`, and the harness removes its containers itself (global
 * tear-down, signals, and the sweep at the next start). A value the user set wins.
 */
async function decideRyuk(
  available: (image: string) => Promise<boolean>,
): Promise<ContainerReport['ryuk']> {
  const set = process.env.TESTCONTAINERS_RYUK_DISABLED;
  if (set !== undefined && set !== '') {
    const enabled = set !== 'true';
    return { enabled, why: `TESTCONTAINERS_RYUK_DISABLED=${set} was set` };
  }
  const { getReaperImage } = await import('testcontainers/build/reaper/reaper.js');
  const image = getReaperImage();
  try {
    await available(image);
    return { enabled: true, why: `image ${image} is available` };
  } catch (err) {
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
    return {
      enabled: false,
      why: `image ${image} cannot be had here (${reason(err).split('\n')[0]}): TESTCONTAINERS_RYUK_DISABLED=true`,
    };
  }
}

/** `<host>:<pid>:<start time>` of this process: the sweep tells a live owner from a reused pid. */
function ownerLabel(): string {
  return `${hostname()}:${process.pid}:${processStartTime(process.pid) ?? ''}`;
}

function ownerAlive(owner: string, createdAtMs: number): boolean {
  const [host = '', pid = '', startTime = ''] = owner.split(':');
  if (host !== hostname()) return Date.now() - createdAtMs < FOREIGN_LEFTOVER_AGE_MS;
  const id = Number(pid);
  if (!Number.isInteger(id) || id <= 0) return false;
  try {
    process.kill(id, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return startTime === '' || processStartTime(id) === startTime;
}

/** Field 22 of /proc/<pid>/stat (clock ticks since boot); undefined where there is no /proc. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

async function managementAnswers(url: string): Promise<boolean> {
  const base = new URL(url);
  const auth = Buffer.from(
    `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`,
  ).toString('base64');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const ok = await fetch(`${base.protocol}//${base.host}/api/overview`, {
      headers: { authorization: `Basic ${auth}` },
      signal: AbortSignal.timeout(2_000),
    })
      .then((response) => response.ok)
      .catch(() => false);
    if (ok) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
