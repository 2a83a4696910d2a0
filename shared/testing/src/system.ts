import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ServiceNames, type ServiceName } from '@app/contracts';
import { makeVhost, type TestVhost } from './broker';
import { REPO_ROOT } from './databases';
import { request } from './http';
import { currentInfrastructure, type Infrastructure } from './infrastructure';
import { grantServicePermissions } from './least-privilege';
import {
  assertDisposableName,
  recreateDatabase,
  recreateVhost,
  type NamedDatabase,
} from './named-resources';
import { uniqueTestName } from './names';
import { ServiceProcess, freePort } from './processes';
import { TestBroker } from './test-broker';

/** The servers a system makes its vhost and databases on. */
export type Servers = Pick<
  Infrastructure,
  'rabbitmqUrl' | 'rabbitmqManagementUrl' | 'postgresUrl' | 'rabbitmqContainerId'
>;

export interface SystemOptions {
  /**
   * Names the vhost, and the databases as `<name>_<service>`: `{ label }` makes a fresh
   * unique test name (`test_<label>_<pid>_<random>`); `{ name }` takes it as given
   * (`demo`, `test_*`) and replaces a previous run's vhost and databases of that name.
   */
  label?: string;
  name?: string;
  /** The services of this system: each gets a database and one instance now. Default: every service of the contract. */
  services?: readonly ServiceName[];
  /** Where the vhost and databases are made. Default: the servers the test set-up chose. */
  servers?: Servers;
  /** Environment of every process, over the harness's `NODE_ENV=test` and `LOG_LEVEL=info`. */
  env?: Record<string, string>;
  /** Sets `ALLOW_FAULT_SWITCHES=true` (FAULT_* and `/admin/faults`). Default true; false runs the services as deployed. */
  faultSwitches?: boolean;
  /** Each service its own broker user with only its own permissions, as deployed. */
  leastPrivilege?: boolean;
  /** `INSTANCE_ID=<service>-<n>` for every process, so logs and broker connections tell instances apart. */
  nameInstances?: boolean;
  /** When no vhost can be made (no rabbitmqctl, no management URL): use `servers.rabbitmqUrl` as given instead of failing. */
  vhostFallback?: boolean;
  readyTimeoutMs?: number;
}

/** The fault switches of `PUT /admin/faults` (fields left out are off). */
export interface Faults {
  handlerDelayMs?: number;
  handlerFailTimes?: number;
  handlerFailAlways?: boolean;
  messageTypes?: string[];
  relayPaused?: boolean;
  crashAfterConfirms?: number;
  crashInHandler?: boolean;
  crashBeforeAck?: boolean;
  crashMidBatchAcks?: number;
}

/**
 * Services as real child processes, started the way `make up` starts them, on a vhost and
 * databases of their own, ready to be driven over HTTP. Used by the end-to-end tests, the
 * demo and the bench. Needs the services built (`npm run build`).
 */
export async function startSystem(options: SystemOptions = {}): Promise<RunningSystem> {
  if ((options.name === undefined) === (options.label === undefined)) {
    throw new Error('startSystem needs either a label or a name');
  }
  if (options.name !== undefined) assertDisposableName(options.name);
  const services = options.services ?? ServiceNames;
  const unbuilt = unbuiltServices(services);
  if (unbuilt.length > 0) {
    throw new Error(`not built: ${unbuilt.join(', ')}; run \`make build\` (or \`npm run build\`)`);
  }
  const servers = options.servers ?? currentInfrastructure();
  const name = options.name ?? uniqueTestName(options.label ?? '');
  const vhost = await systemVhost(servers, name, options);
  const brokerUrls = Object.fromEntries(ServiceNames.map((s) => [s, vhost.url])) as Record<
    ServiceName,
    string
  >;
  const system = new RunningSystem(name, vhost, brokerUrls, services, servers, options);
  try {
    if (options.leastPrivilege) {
      // As on a deployed broker: each service its own user, the exchanges declared up front
      // (infra/rabbitmq/definitions.json does that there; the harness's user here).
      Object.assign(brokerUrls, await grantServicePermissions(vhost));
      const admin = await TestBroker.connect(vhost.url);
      await admin.declareExchanges();
      await admin.close();
    }
    for (const service of services) await system.recreateDatabase(service);
    await system.ensureRunning();
  } catch (err) {
    await system.teardown();
    throw err;
  }
  return system;
}

/** The vhost of a system; `made` is false when it fell back to the broker URL as given. */
export interface SystemVhost extends TestVhost {
  made: boolean;
}

/** A system started by `startSystem`: its vhost, databases and service processes. */
export class RunningSystem {
  /** Every process started, running or not, in start order (their logs outlive them). */
  readonly processes: ServiceProcess[] = [];
  /** Of the system's services; made by `startSystem`, replaced by `recreateDatabase`. */
  readonly databases = {} as Record<ServiceName, NamedDatabase>;
  private readonly current = new Map<ServiceName, ServiceProcess[]>();
  private readonly started = new Map<ServiceName, number>();

  constructor(
    readonly name: string,
    readonly vhost: SystemVhost,
    /** Each service's broker URL: its own user with `leastPrivilege`, else the harness's. */
    readonly brokerUrls: Record<ServiceName, string>,
    /** The services of this system (each has a database). */
    readonly serviceNames: readonly ServiceName[],
    private readonly servers: Servers,
    private readonly options: SystemOptions,
  ) {}

  /** The first instance of each service started (undefined for one never started). */
  get services(): Record<ServiceName, ServiceProcess> {
    return Object.fromEntries(
      [...this.current].flatMap(([service, list]) => (list[0] ? [[service, list[0]]] : [])),
    ) as Record<ServiceName, ServiceProcess>;
  }

  /** The HTTP address of the first instance of a service. */
  url(service: ServiceName): string {
    const first = this.current.get(service)?.[0];
    if (!first) throw new Error(`${service} is not running`);
    return first.url;
  }

  /** The instances of a service started and not stopped through the system. */
  instances(service: ServiceName): ServiceProcess[] {
    return [...(this.current.get(service) ?? [])];
  }

  isRunning(service: ServiceName): boolean {
    return this.instances(service).some((instance) => !instance.exited);
  }

  /** Starts `instances` processes of a service side by side and waits until each is ready. */
  async start(
    service: ServiceName,
    { instances = 1, env = {} }: { instances?: number; env?: Record<string, string> } = {},
  ): Promise<ServiceProcess[]> {
    const fresh = await Promise.all(
      Array.from({ length: instances }, async () => this.spawn(service, env, await freePort())),
    );
    await this.waitUntilReady(fresh);
    return fresh;
  }

  /** Starts one instance of each named service that has none running. */
  async ensureRunning(services: readonly ServiceName[] = this.serviceNames): Promise<void> {
    const missing = services.filter((service) => !this.isRunning(service));
    const fresh = await Promise.all(
      missing.map(async (service) => this.spawn(service, {}, await freePort())),
    );
    await this.waitUntilReady(fresh);
  }

  /** SIGTERM to every instance of a service; resolves when they have exited. */
  async stop(service: ServiceName): Promise<void> {
    await Promise.all(this.instances(service).map((instance) => instance.stop()));
    this.current.set(service, []);
  }

  /** SIGKILL to every instance of a service, as in a crash. */
  async kill(service: ServiceName): Promise<void> {
    await Promise.all(this.instances(service).map((instance) => instance.kill()));
    this.current.set(service, []);
  }

  /**
   * Starts a service again (after `kill` or `stop`, its own or the system's) as one
   * instance on the same port, database and vhost, with `env` added and `nodeArgs` given
   * to node (the bench's `--cpu-prof`).
   */
  async restart(
    service: ServiceName,
    env: Record<string, string> = {},
    { nodeArgs = [] }: { nodeArgs?: string[] } = {},
  ): Promise<ServiceProcess> {
    const [first, ...others] = this.instances(service);
    await Promise.all([first, ...others].map((instance) => instance?.stop()));
    this.current.set(service, []);
    const fresh = this.spawn(
      service,
      env,
      first?.port ?? (await freePort()),
      first?.label,
      nodeArgs,
    );
    await this.waitUntilReady([fresh]);
    return fresh;
  }

  /** Sets the fault switches of every instance of a service (no argument: all off). */
  async setFaults(service: ServiceName, faults: Faults = {}): Promise<void> {
    for (const instance of this.instances(service)) {
      const response = await request(`${instance.url}/admin/faults`, {
        method: 'PUT',
        body: faults,
      });
      if (response.status !== 200) {
        throw new Error(
          `${instance.label} refused the fault switches (${response.status}): ${JSON.stringify(response.body)}`,
        );
      }
    }
  }

  /** Makes a service's database afresh with its migrations (the service must be stopped). */
  async recreateDatabase(service: ServiceName): Promise<void> {
    if (this.isRunning(service)) throw new Error(`stop ${service} before replacing its database`);
    await this.databases[service]?.close();
    this.databases[service] = await recreateDatabase({
      adminUrl: this.servers.postgresUrl,
      name: `${this.name}_${service}`.slice(0, 63),
      service,
    });
  }

  /** Writes each process's output to `<folder>/<label>.log`. */
  async writeLogs(folder: string): Promise<void> {
    await mkdir(folder, { recursive: true });
    await Promise.all(
      this.processes.map((instance) =>
        writeFile(path.join(folder, `${instance.label}.log`), `${instance.output.join('\n')}\n`),
      ),
    );
  }

  /** Stops every process (SIGTERM); drops the databases and vhost unless `keep` is set. */
  async teardown({ keep = false }: { keep?: boolean } = {}): Promise<void> {
    await Promise.all(this.processes.map((instance) => instance.stop()));
    this.current.clear();
    await Promise.all(Object.values(this.databases).map((db) => (keep ? db.close() : db.drop())));
    if (!keep) await this.vhost.delete();
  }

  private spawn(
    service: ServiceName,
    env: Record<string, string>,
    port: number,
    label?: string,
    nodeArgs: string[] = [],
  ): ServiceProcess {
    if (!this.databases[service]) throw new Error(`${service} is not a service of this system`);
    const alive = this.instances(service).filter((instance) => !instance.exited);
    const n = (this.started.get(service) ?? 0) + 1;
    this.started.set(service, n);
    const instanceLabel = label ?? (this.options.nameInstances ? `${service}-${n}` : service);
    const instance = ServiceProcess.start(
      service,
      {
        ...(this.options.faultSwitches === false ? {} : { ALLOW_FAULT_SWITCHES: 'true' }),
        ...(this.options.nameInstances ? { INSTANCE_ID: instanceLabel } : {}),
        DATABASE_URL: this.databases[service].url,
        RABBITMQ_URL: this.brokerUrls[service],
        ...this.options.env,
        ...env,
      },
      port,
      instanceLabel,
      nodeArgs,
    );
    this.processes.push(instance);
    this.current.set(service, [...alive, instance]);
    return instance;
  }

  private async waitUntilReady(instances: ServiceProcess[]): Promise<void> {
    const timeoutMs = this.options.readyTimeoutMs ?? 30_000;
    try {
      await Promise.all(instances.map((instance) => instance.waitUntilReady(timeoutMs)));
    } catch (err) {
      await Promise.all(instances.map((instance) => instance.stop()));
      for (const [service, list] of this.current) {
        this.current.set(
          service,
          list.filter((instance) => !instances.includes(instance)),
        );
      }
      throw err;
    }
  }
}

/** Services whose compiled entry point (`services/<name>/dist/main.js`) is missing. */
export function unbuiltServices(services: readonly ServiceName[] = ServiceNames): ServiceName[] {
  return services.filter(
    (service) => !existsSync(path.join(REPO_ROOT, 'services', service, 'dist', 'main.js')),
  );
}

async function systemVhost(
  servers: Servers,
  name: string,
  options: SystemOptions,
): Promise<SystemVhost> {
  const where = {
    rabbitmqUrl: servers.rabbitmqUrl,
    managementUrl: servers.rabbitmqManagementUrl,
    rabbitmqContainerId: servers.rabbitmqContainerId,
    name,
  };
  // A fresh unique name needs no replacing, and a failure to make it should say why.
  if (options.label !== undefined) return { ...(await makeVhost(where)), made: true };
  const vhost = await recreateVhost(where);
  if (vhost) return { ...vhost, made: true };
  if (!options.vhostFallback) {
    throw new Error(
      `could not make vhost ${name}: run as a user that may use rabbitmqctl, or give the management API URL`,
    );
  }
  const url = new URL(servers.rabbitmqUrl);
  return {
    name: decodeURIComponent(url.pathname.slice(1)) || '/',
    url: servers.rabbitmqUrl,
    delete: async () => undefined,
    made: false,
  };
}
