import type { ServiceName } from '@app/contracts';
import { TcpProxy, waitFor, type RunningSystem } from '@app/testing';
import { rabbitmqctl, serviceConnections } from '../faults/support';
import { pause } from './load';
import type { SeededRandom } from './random';

export type FaultKind = 'kill' | 'close-connections' | 'cut-postgres';
export const FAULT_KINDS: readonly FaultKind[] = ['kill', 'close-connections', 'cut-postgres'];

/** One fault of the timeline. */
export interface FaultRecord {
  n: number;
  kind: FaultKind;
  /** The services hit: the one killed, those whose database was cut, or all (connections). */
  targets: ServiceName[];
  /** When it was injected, ms since the load began. */
  atMs: number;
  /**
   * How long it lasted: SIGKILL until the restart began, cut until restored, or for closed
   * connections the time `rabbitmqctl` took to close them all.
   */
  heldMs: number;
  /**
   * From the end of the fault (restart begun, database restored, connections closed) until
   * every target was back: ready again, and for closed connections connected anew.
   */
  recoveryMs: number;
  /** Orders accepted (answered 202) when it was injected and when it had recovered. */
  acceptedBefore: number;
  acceptedAfter: number;
  detail: string;
  /** Set when the fault could not be injected or its targets did not come back. */
  error?: string;
}

/** Pauses of the schedule, ms. */
export interface FaultTiming {
  gapMs: [number, number];
  killPauseMs: [number, number];
  cutMs: [number, number];
}

export const DEFAULT_TIMING: FaultTiming = {
  gapMs: [1_500, 4_000],
  killPauseMs: [500, 2_500],
  cutMs: [1_000, 4_000],
};

/** How long a target may take to come back before the fault counts as an error. */
const RECOVERY_TIMEOUT_MS = 60_000;

/**
 * Injects faults into a running system on a seeded schedule, one at a time: SIGKILL a
 * service and start it again, close every service connection on the broker (this system's
 * vhost only), or cut one or more services' Postgres. Each service reaches its database
 * through a TcpProxy of its own, so a cut touches this system only, never the shared server.
 */
export class ChaosDriver {
  readonly timeline: FaultRecord[] = [];
  private kinds: FaultKind[] = [];
  private cuts = 0;
  private began = Date.now();

  private constructor(
    private readonly system: RunningSystem,
    /** The services of the run, each through its own proxy. */
    readonly services: readonly ServiceName[],
    private readonly proxies: Record<ServiceName, TcpProxy>,
    private readonly random: SeededRandom,
    private readonly timing: FaultTiming,
  ) {}

  /**
   * Makes each service's database, puts a TcpProxy in front of it and starts the service
   * through it. `system` comes from `startSystem({ services: [] })`: a vhost and no
   * processes yet, so no service is started twice (once direct, once through its proxy).
   */
  static async start(
    system: RunningSystem,
    services: readonly ServiceName[],
    random: SeededRandom,
    timing: FaultTiming = DEFAULT_TIMING,
  ): Promise<ChaosDriver> {
    const proxies = {} as Record<ServiceName, TcpProxy>;
    for (const service of services) {
      await system.recreateDatabase(service);
      const target = new URL(system.databases[service].url);
      proxies[service] = await TcpProxy.start({
        host: target.hostname,
        port: Number(target.port || 5432),
      });
    }
    const driver = new ChaosDriver(system, services, proxies, random, timing);
    await Promise.all(
      services.map((service) => system.start(service, { env: driver.envOf(service) })),
    );
    return driver;
  }

  /**
   * Injects a fault every few seconds while `more()` holds, then returns. `accepted` reads
   * the load's progress for the timeline; `onFault` hears of each fault once it recovered.
   */
  async run(
    more: () => boolean,
    accepted: () => number,
    onFault: (fault: FaultRecord) => void = () => undefined,
  ): Promise<void> {
    this.began = Date.now();
    while (more()) {
      await pause(this.random.between(...this.timing.gapMs));
      if (!more()) return;
      onFault(await this.inject(this.nextKind(), accepted));
    }
  }

  /** Every database reachable and every service running and ready: the state the ledger is read in. */
  async restoreAll(): Promise<void> {
    for (const proxy of Object.values(this.proxies)) proxy.restore();
    for (const service of this.services) {
      if (!this.system.isRunning(service)) {
        await this.system.restart(service, this.envOf(service));
      }
    }
    await this.readyAgain(this.services);
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.proxies).map((proxy) => proxy.close()));
  }

  /** The services' environment on every (re)start: the database through its proxy. */
  private envOf(service: ServiceName): Record<string, string> {
    return { DATABASE_URL: this.proxies[service].proxiedUrl(this.system.databases[service].url) };
  }

  /** Every kind once per round, in a random order: a short run still sees each kind. */
  private nextKind(): FaultKind {
    if (this.kinds.length === 0) this.kinds = this.random.shuffle(FAULT_KINDS);
    return this.kinds.shift()!;
  }

  private async inject(kind: FaultKind, accepted: () => number): Promise<FaultRecord> {
    const record: FaultRecord = {
      n: this.timeline.length + 1,
      kind,
      targets: [],
      atMs: Date.now() - this.began,
      heldMs: 0,
      recoveryMs: 0,
      acceptedBefore: accepted(),
      acceptedAfter: 0,
      detail: '',
    };
    this.timeline.push(record);
    try {
      if (kind === 'kill') await this.killAndRestart(record);
      else if (kind === 'close-connections') await this.closeConnections(record);
      else await this.cutPostgres(record);
    } catch (err) {
      record.error = err instanceof Error ? err.message : String(err);
      // The next fault starts from a whole system again, so one failure is not many.
      await this.restoreAll().catch(() => undefined);
    }
    record.acceptedAfter = accepted();
    return record;
  }

  private async killAndRestart(record: FaultRecord): Promise<void> {
    const service = this.random.pick(this.services);
    const held = this.random.between(...this.timing.killPauseMs);
    record.targets = [service];
    const [instance] = this.system.instances(service);
    record.detail = `SIGKILL pid ${instance?.pid}, down ${held} ms`;
    const killedAt = Date.now();
    // The instance itself, not `system.kill`: the system keeps its port, so `restart` starts
    // the new process where the load and the ledger already look for it.
    await instance?.kill();
    await pause(held);
    const restartAt = Date.now();
    record.heldMs = restartAt - killedAt;
    await this.system.restart(service, this.envOf(service));
    record.recoveryMs = Date.now() - restartAt;
  }

  private async closeConnections(record: FaultRecord): Promise<void> {
    record.targets = [...this.services];
    const vhost = this.system.vhost.name;
    const before = await serviceConnections(vhost);
    const closing = Date.now();
    record.atMs = closing - this.began;
    // One call for the whole vhost (this system's only), not closeServiceConnections' one
    // per connection: each rabbitmqctl starts an Erlang VM, and on a busy 2-core machine five
    // of them took 25 s, so the fault fell after the load instead of during it.
    const answer = await rabbitmqctl(
      'close_all_connections',
      '-p',
      vhost,
      'closed by the chaos run',
    );
    const closedAt = Date.now();
    record.heldMs = closedAt - closing;
    record.detail = `${answer.trim() || `${before.length} connections closed`}`;
    const gone = new Set(before.map((c) => c.pid));
    await waitFor(
      'every service to reconnect to the broker',
      async () => {
        const fresh = await serviceConnections(vhost);
        const names = new Set(
          fresh.filter((c) => !gone.has(c.pid)).map((c) => c.connectionName.split('#')[0]),
        );
        return this.services.every((service) => names.has(service));
      },
      { timeoutMs: RECOVERY_TIMEOUT_MS, intervalMs: 250 },
    );
    await this.readyAgain(record.targets);
    record.recoveryMs = Date.now() - closedAt;
  }

  /**
   * Cuts the databases of one to three services. Every other cut includes Order's, so
   * POSTs meet a missing database (503, retried under the same Idempotency-Key).
   */
  private async cutPostgres(record: FaultRecord): Promise<void> {
    const others = this.random.shuffle(this.services.filter((s) => s !== 'order'));
    const withOrder = this.cuts % 2 === 0 && this.services.includes('order');
    this.cuts += 1;
    const count = withOrder ? this.random.between(0, 2) : this.random.between(1, 3);
    const targets: ServiceName[] = [
      ...(withOrder ? ['order' as const] : []),
      ...others.slice(0, count),
    ];
    const held = this.random.between(...this.timing.cutMs);
    record.targets = targets;
    const refusedBefore = this.refused(targets);
    const cutAt = Date.now();
    for (const service of targets) this.proxies[service].cut();
    try {
      await pause(held);
    } finally {
      for (const service of targets) this.proxies[service].restore();
    }
    const restoredAt = Date.now();
    record.heldMs = restoredAt - cutAt;
    record.detail = `${this.refused(targets) - refusedBefore} connections refused while cut`;
    await this.readyAgain(targets);
    record.recoveryMs = Date.now() - restoredAt;
  }

  private refused(services: ServiceName[]): number {
    return services.reduce((sum, service) => sum + this.proxies[service].stats.refused, 0);
  }

  private async readyAgain(services: readonly ServiceName[]): Promise<void> {
    await Promise.all(
      services.map((service) =>
        waitFor(
          `${service} to be ready again`,
          async () => {
            const response = await fetch(`${this.system.url(service)}/health/ready`, {
              signal: AbortSignal.timeout(3_000),
            });
            return response.status === 200;
          },
          { timeoutMs: RECOVERY_TIMEOUT_MS, intervalMs: 100 },
        ),
      ),
    );
  }
}
