import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ServiceNames, type ServiceName } from '@app/contracts';
import {
  REPO_ROOT,
  ServiceProcess,
  freePort,
  recreateDatabase,
  recreateVhost,
  redact,
  request,
  serverProblems,
  type NamedDatabase,
} from '@app/testing';
import type { DemoConfig } from './config';
import { Queues } from './queues';
import { handledFromLogs, type HandledMessage } from './trail';

/** Deliveries each consumer has in flight (the services' default, set explicitly for the pace maths). */
export const SERVICE_PREFETCH = 8;

/** One service process the demo started; `label` names the instance (`invoicing-2`). */
export interface DemoProcess {
  label: string;
  service: ServiceName;
  process: ServiceProcess;
}

/** The fault switches of `PUT /admin/faults` (fields left out are off). */
export interface Faults {
  handlerDelayMs?: number;
  handlerFailTimes?: number;
  handlerFailAlways?: boolean;
  messageTypes?: string[];
  relayPaused?: boolean;
}

/**
 * The system the demo drives: its own vhost and databases (made afresh each run), the
 * services as child processes started the way `make up` starts them, stopped, started
 * and scaled as the scenarios need, and the demo's own broker client for queue depths.
 */
export class DemoSystem {
  private readonly running = new Map<ServiceName, DemoProcess[]>();
  /** Every process started in this run, running or not (their logs make the trails). */
  readonly started: DemoProcess[] = [];
  private readonly instanceCount = new Map<ServiceName, number>();

  private constructor(
    private readonly config: DemoConfig,
    /** The AMQP URL the services use (the demo's vhost). */
    readonly brokerUrl: string,
    /** Undefined when the demo had to use the broker's default vhost. */
    readonly vhost: string | undefined,
    readonly databases: Record<ServiceName, NamedDatabase>,
    readonly queues: Queues,
  ) {}

  /** Checks the servers answer and the services are built, then makes the vhost and databases. */
  static async prepare(config: DemoConfig, say: (line: string) => void): Promise<DemoSystem> {
    await assertReady(config);
    const vhost = await recreateVhost({
      rabbitmqUrl: config.DEMO_RABBITMQ_URL,
      managementUrl: config.DEMO_RABBITMQ_MANAGEMENT_URL,
      name: config.DEMO_NAME,
    });
    if (!vhost) {
      say(
        `  ! could not make vhost "${config.DEMO_NAME}" (no rabbitmqctl and no DEMO_RABBITMQ_MANAGEMENT_URL): ` +
          'using the broker URL as given; stop other consumers of its queues first',
      );
    }
    const brokerUrl = vhost?.url ?? config.DEMO_RABBITMQ_URL;
    const entries = await Promise.all(
      ServiceNames.map(
        async (service) =>
          [
            service,
            await recreateDatabase({
              adminUrl: config.DEMO_POSTGRES_URL,
              name: `${config.DEMO_NAME}_${service}`,
              service,
            }),
          ] as const,
      ),
    );
    const databases = Object.fromEntries(entries) as Record<ServiceName, NamedDatabase>;
    say(
      `  broker ${redact(brokerUrl)}${vhost ? ` (vhost ${vhost.name}, made afresh)` : ''}; ` +
        `databases ${entries.map(([, db]) => db.name).join(', ')} (made afresh, migrations applied)`,
    );
    return new DemoSystem(config, brokerUrl, vhost?.name, databases, new Queues(brokerUrl));
  }

  /** Starts `instances` processes of a service side by side and waits until each is ready. */
  async start(
    service: ServiceName,
    options: { instances?: number; env?: Record<string, string> } = {},
  ): Promise<DemoProcess[]> {
    const { instances = 1, env = {} } = options;
    const fresh = await Promise.all(
      Array.from({ length: instances }, async () => {
        const n = (this.instanceCount.get(service) ?? 0) + 1;
        this.instanceCount.set(service, n);
        const label = `${service}-${n}`;
        const process = ServiceProcess.start(
          service,
          {
            NODE_ENV: 'development',
            LOG_LEVEL: 'info',
            DATABASE_URL: this.databases[service].url,
            RABBITMQ_URL: this.brokerUrl,
            INSTANCE_ID: label,
            PREFETCH: String(SERVICE_PREFETCH),
            ...env,
          },
          await freePort(),
        );
        const started: DemoProcess = { label, service, process };
        this.started.push(started);
        this.running.set(service, [...(this.running.get(service) ?? []), started]);
        return started;
      }),
    );
    try {
      await Promise.all(fresh.map(({ process }) => process.waitUntilReady(60_000)));
    } catch (err) {
      await Promise.all(fresh.map((started) => this.stopOne(started)));
      throw err;
    }
    return fresh;
  }

  /** SIGTERM to every instance of a service; resolves when they have exited. */
  async stop(service: ServiceName): Promise<void> {
    await Promise.all((this.running.get(service) ?? []).map((started) => this.stopOne(started)));
  }

  /** Starts one instance of each named service that has none running. */
  async ensureRunning(services: readonly ServiceName[] = ServiceNames): Promise<void> {
    await Promise.all(
      services.filter((service) => !this.isRunning(service)).map((service) => this.start(service)),
    );
  }

  isRunning(service: ServiceName): boolean {
    return (this.running.get(service) ?? []).length > 0;
  }

  instances(service: ServiceName): DemoProcess[] {
    return [...(this.running.get(service) ?? [])];
  }

  /** The HTTP address of the (first) running instance of a service. */
  url(service: ServiceName): string {
    const first = this.running.get(service)?.[0];
    if (!first) throw new Error(`${service} is not running`);
    return first.process.url;
  }

  /** Sets the fault switches of every running instance of a service (no argument: all off). */
  async setFaults(service: ServiceName, faults: Faults = {}): Promise<void> {
    for (const { label, process } of this.instances(service)) {
      const response = await request(`${process.url}/admin/faults`, {
        method: 'PUT',
        body: faults,
      });
      if (response.status !== 200) {
        throw new Error(`${label} refused the fault switches: ${JSON.stringify(response.body)}`);
      }
    }
  }

  /** Replaces a service's database with an empty one (the service must be stopped). */
  async recreateDatabase(service: ServiceName): Promise<void> {
    if (this.isRunning(service)) throw new Error(`stop ${service} before replacing its database`);
    await this.databases[service].close();
    this.databases[service] = await recreateDatabase({
      adminUrl: this.config.DEMO_POSTGRES_URL,
      name: this.databases[service].name,
      service,
    });
  }

  /** Messages handled by any process of this run, from their logs. */
  handled(): HandledMessage[] {
    return this.started.flatMap(({ process }) => this.handledFromProcess(process));
  }

  /** Messages handled by one process, from its logs. */
  handledFromProcess(process: ServiceProcess): HandledMessage[] {
    return handledFromLogs(process.service, process.logs);
  }

  /** Writes each process's output to `<folder>/<label>.log`. */
  async writeLogs(folder: string): Promise<void> {
    await mkdir(folder, { recursive: true });
    await Promise.all(
      this.started.map(({ label, process }) =>
        writeFile(path.join(folder, `${label}.log`), `${process.output.join('\n')}\n`),
      ),
    );
  }

  /** Stops every process; drops the vhost and databases too when `cleanup` is set. */
  async teardown(cleanup: boolean): Promise<void> {
    await Promise.all(ServiceNames.map((service) => this.stop(service)));
    await this.queues.close();
    await Promise.all(
      Object.values(this.databases).map((db) => (cleanup ? db.drop() : db.close())),
    );
    if (cleanup && this.vhost) {
      const vhost = await recreateVhost({
        rabbitmqUrl: this.config.DEMO_RABBITMQ_URL,
        managementUrl: this.config.DEMO_RABBITMQ_MANAGEMENT_URL,
        name: this.vhost,
      });
      await vhost?.delete();
    }
  }

  private async stopOne(started: DemoProcess): Promise<void> {
    await started.process.stop();
    const left = (this.running.get(started.service) ?? []).filter((other) => other !== started);
    this.running.set(started.service, left);
  }
}

/** Fails with one message naming everything missing: a server that does not answer, an unbuilt service. */
async function assertReady(config: DemoConfig): Promise<void> {
  const problems: string[] = [];
  const unbuilt = ServiceNames.filter(
    (service) => !existsSync(path.join(REPO_ROOT, 'services', service, 'dist', 'main.js')),
  );
  if (unbuilt.length > 0) {
    problems.push(`not built: ${unbuilt.join(', ')}; run \`make build\` (make demo does)`);
  }
  problems.push(
    ...(await serverProblems(config.DEMO_RABBITMQ_URL, config.DEMO_POSTGRES_URL, {
      rabbitmq: 'DEMO_RABBITMQ_URL',
      postgres: 'DEMO_POSTGRES_URL',
    })),
  );
  if (problems.length > 0) {
    throw new Error(`The demo cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export { redact };
