import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import amqplib from 'amqplib';
import { ServiceNames, type ServiceName } from '@app/contracts';
import { REPO_ROOT, anOrderRequest, startSystem, type RunningSystem } from '@app/testing';
import { measureBroker, measurePostgres, type Ceilings } from './ceilings';
import type { BenchConfig } from './config';
import {
  cpuPerOrder,
  readTransactionCounts,
  transactionsPerOrder,
  type CpuPerOrder,
  type TransactionsPerOrder,
} from './cost';
import { listeningPid, startCpuSample, type CpuUse, type ProcessGroup } from './cpu';
import { placeAtRate, placeWithConcurrency } from './load';
import { perSecondBuckets, sampleBacklog } from './overload';
import { topFrames, type CpuProfile, type ProfileFrame } from './profile';
import { perSecond, rateInWindow, saturationOf } from './rates';
import { summarize, type Summary } from './stats';
import { KEEPS_UP, SEARCH, keepsUp, nextRate, sustainedOf } from './sustain';
import { stagesOf } from './timeline';
import { completionsSince, readTimeline, waitForCompletion } from './timestamps';

export type Style = 'event' | 'command';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  rabbitmq: string;
  postgres: string;
  /**
   * Postgres's `autovacuum` setting. Off (this machine's CI setting), the bench vacuums and
   * analyzes its databases after each step (see `StyleSteps.drain`).
   */
  autovacuum: boolean;
  loadAverage: number[];
  /** CPU busy on the machine, in % of one core, in the seconds before the run began. */
  busyBeforeRun: number;
}

export interface LatencyRun {
  style: Style;
  rate: number;
  /** The rate as a share of the style's sustained rate (unset with BENCH_RATES). */
  share?: number;
  seconds: number;
  placed: number;
  failures: number;
  failureReasons: Record<string, number>;
  completed: number;
  /** Orders not completed when the wait for them ended. */
  open: number;
  /** Why the run was not made (a rate above the style's sustained rate). */
  skipped?: string;
  stages: { stage: string; ms: Summary | undefined }[];
  /**
   * CPU over the step's second half: the machine's (of 100% per core) and per completed
   * order of each process group, as at the sustained rate. It tells how near the machine
   * was to saturation at this rate, which latency is most sensitive to.
   */
  cost?: { machinePercent: number; cpu: CpuPerOrder[] };
}

export interface SaturationStep {
  style: Style;
  concurrency: number;
  seconds: number;
  acceptedPerSecond: number;
  completedPerSecond: number;
  failures: number;
  postLatencyMs: { p50: number; p99: number; max: number };
  /** Orders accepted in the step but not completed when it ended. */
  backlogAtEnd: number;
  drainMs: number;
  cpu: CpuUse;
  /**
   * CPU of the four services from the step's start until its orders completed, per order,
   * in ms: a steadier measure of cost than rates on a busy machine.
   */
  serviceCpuMsPerOrder: number | undefined;
}

export interface SustainStep {
  style: Style;
  rate: number;
  seconds: number;
  accepted: number;
  failures: number;
  failureReasons: Record<string, number>;
  completedPerSecondInSecondHalf: number;
  backlogAtEnd: number;
  held: boolean;
  /** Why the rate did not hold. */
  reasons: string[];
  drainMs: number;
  /** Over the step's second half, when the pipeline is full: per completed order. */
  cost: {
    seconds: number;
    completed: number;
    cpu: CpuPerOrder[];
    transactions: TransactionsPerOrder[];
  };
}

/** The search for one style's sustained rate. */
export interface SustainSearch {
  style: Style;
  /** The closed-loop saturation the search started from, orders/s. */
  estimate: number;
  steps: SustainStep[];
  /** The highest rate that held; undefined when none did. */
  sustained: number | undefined;
}

/** Twice the sustained rate, open loop, then the drain. */
export interface OverloadRun {
  style: Style;
  sustained: number;
  rate: number;
  seconds: number;
  accepted: number;
  /** 503s of Order's admission limit, and how many of them said Retry-After. */
  refused: number;
  refusedWithRetryAfter: number;
  otherFailures: number;
  failureReasons: Record<string, number>;
  /** Completions inside the step, per second. */
  completedPerSecond: number;
  shareOfSustained: number;
  /** The most orders open at once (sampled every 500 ms during the step). */
  maxBacklog: number;
  /** From the step's last answer until every order was terminal (or the wait ended). */
  drainMs: number;
  openAfterDrain: number;
  /** Per second from the step's start until drained: 202s answered and orders completed. */
  timeline: { second: number; accepted: number; completed: number }[];
}

/** The busiest service at the sustained rate under `node --cpu-prof`. */
export interface ProfileRun {
  style: Style;
  service: ServiceName;
  rate: number;
  seconds: number;
  file: string;
  busyMs: number;
  idleMs: number;
  frames: ProfileFrame[];
}

export interface BenchResult {
  startedAt: string;
  durationMs: number;
  machine: Machine;
  settings: Record<string, unknown>;
  ceilings: Ceilings;
  saturation: SaturationStep[];
  sustain: SustainSearch[];
  latency: LatencyRun[];
  overload: OverloadRun[];
  profile: ProfileRun | { skipped: string };
}

/**
 * Runs everything in order: ceilings and a warm-up; then per style the quick closed-loop
 * saturation steps, the search for the sustained rate, latency at shares of it, and
 * overload at twice it; last, a CPU profile of the busiest service at the sustained rate.
 */
export async function runBench(
  config: BenchConfig,
  say: (line: string) => void,
  { startedAt, folder }: { startedAt: Date; folder: string },
): Promise<BenchResult> {
  const started = startedAt.getTime();
  say('Measuring how busy the machine is before starting (3 s) ...');
  const quiet = startCpuSample([]);
  await sleep(3_000);
  const busyBeforeRun = quiet.finish().machine;
  say(`  machine busy: ${Math.round(busyBeforeRun)}% of one core (of ${os.cpus().length * 100}%)`);

  say('Starting the services on a vhost and databases of their own ...');
  const system = await startBenchSystem(config);
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    say('\nInterrupted: stopping the services and dropping the bench vhost and databases ...');
    void system.teardown().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const machine = await describeMachine(config, system, busyBeforeRun);
    say(`  vhost ${system.name}; RabbitMQ ${machine.rabbitmq}, Postgres ${machine.postgres}`);

    say(`Ceilings (${config.BENCH_CEILING_SECONDS} s each) ...`);
    const broker = await measureBroker(system.vhost.url, config.BENCH_CEILING_SECONDS);
    const postgres = await measurePostgres(
      system.databases.order.url,
      config.BENCH_CEILING_SECONDS,
    );
    const ceilings: Ceilings = { ...broker, ...postgres };
    say(
      `  broker: ${Math.round(ceilings.publishConfirmedPerSecond)} msg/s published with confirms, ` +
        `${Math.round(ceilings.consumeAckedPerSecond)} msg/s consumed with acks (${ceilings.messageBytes} B); ` +
        `postgres: ${Math.round(ceilings.insertPerSecond)} inserts/s, ` +
        `${Math.round(ceilings.insertInTransactionPerSecond)} BEGIN/INSERT/COMMIT/s, ` +
        `${Math.round(ceilings.insertWithNotifyPerSecond)} with NOTIFY/s`,
    );

    const bench = new StyleSteps(config, system, say, machine.autovacuum);
    if (!machine.autovacuum) {
      say(
        '  Postgres runs without autovacuum: the bench vacuums and analyzes its databases after each step',
      );
    }
    say('Warming up (both styles, 2 s each at 100 orders/s) ...');
    for (const style of config.BENCH_STYLES) {
      const since = Date.now();
      await placeAtRate(bench.orderUrl, bodyOf(style), 100, 2);
      await bench.drain(since);
    }

    const saturation: SaturationStep[] = [];
    const sustain: SustainSearch[] = [];
    const latency: LatencyRun[] = [];
    const overload: OverloadRun[] = [];
    for (const style of config.BENCH_STYLES) {
      const steps: SaturationStep[] = [];
      for (const concurrency of config.BENCH_CONCURRENCY) {
        steps.push(await bench.saturationStep(style, concurrency));
      }
      saturation.push(...steps);
      const search = await bench.searchSustained(
        style,
        saturationOf(steps)?.completedPerSecond ?? 0,
      );
      sustain.push(search);
      const rates =
        config.BENCH_RATES?.map((rate) => ({ rate, share: undefined })) ??
        (search.sustained === undefined
          ? []
          : LATENCY_SHARES.map((share) => ({
              rate: Math.max(1, Math.round(share * (search.sustained as number))),
              share,
            })));
      const ceiling = search.sustained ?? saturationOf(steps)?.completedPerSecond;
      for (const { rate, share } of rates) {
        latency.push(await bench.latencyRun(style, rate, share, ceiling));
      }
      if (search.sustained !== undefined) {
        overload.push(await bench.overloadRun(style, search.sustained));
      }
    }
    const profile = await bench.profileBusiest(sustain, folder);

    return {
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - started,
      machine,
      settings: {
        concurrency: config.BENCH_CONCURRENCY,
        stepSeconds: config.BENCH_STEP_SECONDS,
        stepWarmupSeconds: config.BENCH_STEP_WARMUP_SECONDS,
        sustainSeconds: config.BENCH_SUSTAIN_SECONDS,
        sustainSteps: config.BENCH_SUSTAIN_STEPS,
        keepsUp: KEEPS_UP,
        search: SEARCH,
        rates: config.BENCH_RATES ?? LATENCY_SHARES.map((share) => `${share * 100}% of sustained`),
        rateSeconds: config.BENCH_RATE_SECONDS,
        overloadSeconds: config.BENCH_OVERLOAD_SECONDS,
        profileSeconds: config.BENCH_PROFILE_SECONDS,
        ceilingSeconds: config.BENCH_CEILING_SECONDS,
        serviceEnv: config.BENCH_SERVICE_ENV,
      },
      ceilings,
      saturation,
      sustain,
      latency,
      overload,
      profile,
    };
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    say('Stopping the services, dropping the bench vhost and databases ...');
    await system.teardown();
  }
}

/** Latency is measured at these shares of each style's sustained rate (unless BENCH_RATES). */
export const LATENCY_SHARES = [0.25, 0.5, 0.75] as const;

const bodyOf = (style: Style): string => JSON.stringify(anOrderRequest({ style }));

/** The steps of a run, each on the bench's system: load, wait for it to drain, measure. */
class StyleSteps {
  readonly orderUrl: string;

  constructor(
    private readonly config: BenchConfig,
    private readonly system: RunningSystem,
    private readonly say: (line: string) => void,
    private readonly autovacuum: boolean,
  ) {
    this.orderUrl = system.url('order');
  }

  /**
   * Waits until the orders placed since `since` are terminal (or the drain timeout). On a
   * server without autovacuum it then vacuums and analyzes the bench's databases, as
   * autovacuum would on any other: otherwise each step leaves thousands of dead row
   * versions in the outbox, and the services' prepared statements keep the plans made
   * when the tables were empty (a sequential scan of the outbox per relay cycle, a
   * Postgres core at 50 orders/s; docs/performance.md, "Cost at moderate load").
   */
  async drain(since: number, timeoutMs = this.config.BENCH_DRAIN_TIMEOUT_SECONDS * 1000) {
    const drained = await waitForCompletion(this.system.databases.order, since, timeoutMs);
    if (!this.autovacuum) {
      for (const service of this.system.serviceNames) {
        await this.system.databases[service].query('VACUUM (ANALYZE)');
      }
    }
    return drained;
  }

  private groups(): Promise<ProcessGroup[]> {
    return processGroups(this.config, this.system);
  }

  async saturationStep(style: Style, concurrency: number): Promise<SaturationStep> {
    const { config, system } = this;
    this.say(
      `Saturation, ${style} style, ${concurrency} connections for ${config.BENCH_STEP_SECONDS} s ...`,
    );
    const groups = await this.groups();
    const since = Date.now();
    const cpu = startCpuSample(groups);
    const cpuUntilDrained = startCpuSample(groups);
    const run = await placeWithConcurrency(
      this.orderUrl,
      bodyOf(style),
      concurrency,
      config.BENCH_STEP_SECONDS,
    );
    const ended = Date.now();
    const used = cpu.finish(await this.groups());
    const { placed, completedAt } = await completionsSince(system.databases.order, since);
    const drain = await this.drain(since);
    const step: SaturationStep = {
      style,
      concurrency,
      seconds: (ended - since) / 1000,
      acceptedPerSecond: perSecond(placed, ended - since),
      completedPerSecond: rateInWindow(
        completedAt,
        since + config.BENCH_STEP_WARMUP_SECONDS * 1000,
        ended,
      ),
      failures: run.failures,
      postLatencyMs: run.postLatencyMs,
      backlogAtEnd: placed - completedAt.filter((t) => t < ended).length,
      drainMs: drain.waitedMs,
      cpu: used,
      serviceCpuMsPerOrder: cpuMsPerOrder(cpuUntilDrained.finish(await this.groups()), placed),
    };
    this.say(
      `  accepted ${Math.round(step.acceptedPerSecond)}/s, completed ${Math.round(step.completedPerSecond)}/s, ` +
        `backlog ${step.backlogAtEnd} (drained in ${(step.drainMs / 1000).toFixed(1)} s), ` +
        `services ${step.serviceCpuMsPerOrder?.toFixed(1)} ms CPU/order, machine CPU ${Math.round(used.machine)}%, others ${Math.round(used.others)}%`,
    );
    return step;
  }

  /** Open-loop steps from 80% of the estimate, up while the rate holds (see sustain.ts). */
  async searchSustained(style: Style, estimate: number): Promise<SustainSearch> {
    const steps: SustainStep[] = [];
    for (;;) {
      const rate = nextRate(estimate, steps, this.config.BENCH_SUSTAIN_STEPS);
      if (rate === undefined) break;
      steps.push(await this.sustainStep(style, rate));
    }
    const sustained = sustainedOf(steps);
    this.say(
      `  ${style} style: sustained ${sustained === undefined ? 'none of the rates tried' : `${sustained} orders/s`}`,
    );
    return { style, estimate, steps, sustained };
  }

  /**
   * One open-loop step at `rate` for BENCH_SUSTAIN_SECONDS. Its cost (CPU and database
   * transactions per completed order) is read over the second half, when the pipeline is
   * full, so orders in flight at either edge hardly matter.
   */
  async sustainStep(style: Style, rate: number): Promise<SustainStep> {
    const { config, system } = this;
    const seconds = config.BENCH_SUSTAIN_SECONDS;
    this.say(`Sustained rate, ${style} style, ${rate} orders/s for ${seconds} s ...`);
    const databases = Object.fromEntries(
      system.serviceNames.map((service) => [service, system.databases[service].name]),
    );
    const readCounts = () =>
      readTransactionCounts(system.databases.order, Object.values(databases));
    const since = Date.now();
    const halfway = since + (seconds * 1000) / 2;
    const secondHalf = sleep(halfway - Date.now()).then(async () => ({
      at: Date.now(),
      cpu: startCpuSample(await this.groups()),
      counts: await readCounts(),
    }));
    const run = await placeAtRate(this.orderUrl, bodyOf(style), rate, seconds);
    const half = await secondHalf;
    const ended = Date.now();
    const cpu = half.cpu.finish(await this.groups());
    const counts = await readCounts();
    const windowEnd = since + seconds * 1000;
    const { placed, completedAt } = await completionsSince(system.databases.order, since);
    const drain = await this.drain(since);
    const completedInSecondHalf = completedAt.filter((t) => t >= halfway && t < windowEnd).length;
    const completedInSample = completedAt.filter((t) => t >= half.at && t < ended).length;
    const verdict = keepsUp({
      rate,
      seconds,
      failures: run.failures,
      completedInSecondHalf,
      backlogAtEnd: placed - completedAt.filter((t) => t < windowEnd).length,
    });
    const step: SustainStep = {
      style,
      rate,
      seconds,
      accepted: placed,
      failures: run.failures,
      failureReasons: run.failureReasons,
      completedPerSecondInSecondHalf: completedInSecondHalf / (seconds / 2),
      backlogAtEnd: placed - completedAt.filter((t) => t < windowEnd).length,
      held: verdict.held,
      reasons: verdict.reasons,
      drainMs: drain.waitedMs,
      cost: {
        seconds: (ended - half.at) / 1000,
        completed: completedInSample,
        cpu: cpuPerOrder(cpu, completedInSample),
        transactions: transactionsPerOrder(half.counts, counts, databases, completedInSample),
      },
    };
    this.say(
      `  ${step.held ? 'held' : `did not hold (${step.reasons.join('; ')})`}: completed ` +
        `${Math.round(step.completedPerSecondInSecondHalf)}/s in the second half, backlog ` +
        `${step.backlogAtEnd} at the end, drained in ${(step.drainMs / 1000).toFixed(1)} s`,
    );
    return step;
  }

  async latencyRun(
    style: Style,
    rate: number,
    share: number | undefined,
    ceiling: number | undefined,
  ): Promise<LatencyRun> {
    const { config, system } = this;
    const label =
      share === undefined ? `${rate} orders/s` : `${share * 100}% of sustained (${rate} orders/s)`;
    if (ceiling !== undefined && rate > ceiling) {
      // Above the sustained rate the queues only grow: latency has no steady value to measure.
      const skipped = `above this run's sustained rate (${Math.round(ceiling)} orders/s)`;
      this.say(`Latency, ${style} style, ${label}: skipped, ${skipped}`);
      return {
        style,
        rate,
        share,
        seconds: 0,
        placed: 0,
        failures: 0,
        failureReasons: {},
        completed: 0,
        open: 0,
        stages: [],
        skipped,
      };
    }
    this.say(`Latency, ${style} style, ${label} for ${config.BENCH_RATE_SECONDS} s ...`);
    const since = Date.now();
    const halfway = since + (config.BENCH_RATE_SECONDS * 1000) / 2;
    const secondHalf = sleep(halfway - Date.now()).then(async () => ({
      at: Date.now(),
      cpu: startCpuSample(await this.groups()),
    }));
    const run = await placeAtRate(this.orderUrl, bodyOf(style), rate, config.BENCH_RATE_SECONDS);
    const half = await secondHalf;
    const ended = Date.now();
    const used = half.cpu.finish(await this.groups());
    const { open } = await this.drain(since);
    const { completedAt } = await completionsSince(system.databases.order, since);
    const completedInSample = completedAt.filter((t) => t >= half.at && t < ended).length;
    const timeline = await readTimeline(
      system.databases,
      run.orders.map((order) => order.id),
    );
    const stages = stagesOf(run.orders, timeline);
    const result: LatencyRun = {
      style,
      rate,
      share,
      seconds: config.BENCH_RATE_SECONDS,
      placed: run.orders.length,
      failures: run.failures,
      failureReasons: run.failureReasons,
      completed: timeline.orders.filter((o) => o.status === 'COMPLETED').length,
      open,
      stages: [...stages].map(([stage, values]) => ({ stage, ms: summarize(values) })),
      cost: { machinePercent: used.machine, cpu: cpuPerOrder(used, completedInSample) },
    };
    const e2e = result.stages.at(-1)?.ms;
    const machineMs = result.cost?.cpu.find((c) => c.label === 'machine total')?.msPerOrder;
    this.say(
      `  ${result.completed}/${result.placed} completed; end to end p50 ${e2e?.p50.toFixed(0)} ms, ` +
        `p99 ${e2e?.p99.toFixed(0)} ms; machine CPU ${Math.round(used.machine)}%, ` +
        `${machineMs?.toFixed(1)} ms per order${result.failures ? `; ${result.failures} POSTs failed (${JSON.stringify(result.failureReasons)})` : ''}`,
    );
    return result;
  }

  /** Twice the sustained rate for BENCH_OVERLOAD_SECONDS, then the drain, second by second. */
  async overloadRun(style: Style, sustained: number): Promise<OverloadRun> {
    const { config, system } = this;
    const seconds = config.BENCH_OVERLOAD_SECONDS;
    const rate = 2 * sustained;
    this.say(
      `Overload, ${style} style, ${rate} orders/s (twice the sustained rate) for ${seconds} s ...`,
    );
    const since = Date.now();
    const backlog = sampleBacklog(system.databases.order, since, 500);
    const run = await placeAtRate(this.orderUrl, bodyOf(style), rate, seconds);
    const samples = await backlog.stop();
    const drain = await this.drain(
      since,
      Math.max(config.BENCH_DRAIN_TIMEOUT_SECONDS, 3 * seconds) * 1000,
    );
    const drained = Date.now();
    const { completedAt } = await completionsSince(system.databases.order, since);
    const stepEnd = since + seconds * 1000;
    const completedInStep = completedAt.filter((t) => t >= since && t < stepEnd).length;
    const accepted = perSecondBuckets(
      run.orders.map((order) => order.answeredAt),
      since,
      drained,
    );
    const completed = perSecondBuckets(completedAt, since, drained);
    const result: OverloadRun = {
      style,
      sustained,
      rate,
      seconds,
      accepted: run.orders.length,
      refused: run.refusals.count,
      refusedWithRetryAfter: run.refusals.withRetryAfter,
      otherFailures: run.failures - run.refusals.count,
      failureReasons: run.failureReasons,
      completedPerSecond: completedInStep / seconds,
      shareOfSustained: completedInStep / seconds / sustained,
      maxBacklog: Math.max(0, ...samples.map((sample) => sample.open)),
      drainMs: drain.waitedMs,
      openAfterDrain: drain.open,
      timeline: completed.map((count, second) => ({
        second,
        accepted: accepted[second] ?? 0,
        completed: count,
      })),
    };
    this.say(
      `  accepted ${result.accepted}, refused ${result.refused} (503; ${result.refusedWithRetryAfter} with Retry-After), ` +
        `other failures ${result.otherFailures}; completed ${Math.round(result.completedPerSecond)}/s during the step ` +
        `(${Math.round(100 * result.shareOfSustained)}% of sustained); largest backlog ${result.maxBacklog}; ` +
        `drained in ${(result.drainMs / 1000).toFixed(1)} s`,
    );
    return result;
  }

  /**
   * Restarts the busiest service (most CPU per order at the sustained rate) of the first
   * style with a sustained rate under `--cpu-prof`, loads it at that rate, stops it with
   * SIGTERM (node writes the profile on exit) and starts it again as before.
   */
  async profileBusiest(
    searches: SustainSearch[],
    folder: string,
  ): Promise<ProfileRun | { skipped: string }> {
    const { config, system } = this;
    const seconds = config.BENCH_PROFILE_SECONDS;
    if (seconds === 0) return { skipped: 'BENCH_PROFILE_SECONDS=0' };
    const search = searches.find((s) => s.sustained !== undefined);
    const step = search?.steps.find((s) => s.rate === search.sustained);
    if (!search || !step) return { skipped: 'no sustained rate to profile at' };
    const service = busiestService(step);
    if (!service) return { skipped: 'no service CPU measured' };
    const name = `${search.style}-${service}.cpuprofile`;
    const file = path.join(folder, name);
    this.say(
      `CPU profile of ${service} (busiest), ${search.style} style, ${step.rate} orders/s for ${seconds} s ...`,
    );
    await mkdir(folder, { recursive: true });
    await system.restart(
      service,
      {},
      {
        nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${folder}`, `--cpu-prof-name=${name}`],
      },
    );
    const since = Date.now();
    await placeAtRate(this.orderUrl, bodyOf(search.style), step.rate, seconds);
    await this.drain(since);
    // Stops the profiled process with SIGTERM and waits for its exit before starting anew.
    await system.restart(service);
    if (!existsSync(file)) return { skipped: `${service} exited without writing ${name}` };
    const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
    const summary = topFrames(profile, REPO_ROOT);
    this.say(
      `  ${path.relative(process.cwd(), file)}: ${(summary.busyMs / 1000).toFixed(1)} s busy; top frame ` +
        `${summary.frames[0]?.functionName} (${summary.frames[0]?.location})`,
    );
    return {
      style: search.style,
      service,
      rate: step.rate,
      seconds,
      file: path.relative(REPO_ROOT, file),
      ...summary,
    };
  }
}

/** The service with the most CPU per order in a step. */
export function busiestService(step: SustainStep): ServiceName | undefined {
  const services = step.cost.cpu.filter((p) =>
    (ServiceNames as readonly string[]).includes(p.label),
  );
  const top = services.reduce<CpuPerOrder | undefined>(
    (best, p) => (best === undefined || p.msPerOrder > best.msPerOrder ? p : best),
    undefined,
  );
  return top?.label as ServiceName | undefined;
}

/** The best step of each style: the highest rate of orders completed end to end. */
export function saturationByStyle(steps: SaturationStep[]): Partial<Record<Style, SaturationStep>> {
  const styles = [...new Set(steps.map((step) => step.style))];
  return Object.fromEntries(
    styles.map((style) => [style, saturationOf(steps.filter((step) => step.style === style))]),
  );
}

/** The four services' CPU time during a sample divided by the orders handled in it. */
export function cpuMsPerOrder(cpu: CpuUse, completed: number): number | undefined {
  if (completed === 0) return undefined;
  const services = cpu.processes
    .filter((p) => (ServiceNames as readonly string[]).includes(p.label))
    .reduce((sum, p) => sum + p.percent, 0);
  return ((services / 100) * cpu.seconds * 1000) / completed;
}

async function describeMachine(
  config: BenchConfig,
  system: RunningSystem,
  busyBeforeRun: number,
): Promise<Machine> {
  const connection = await amqplib.connect(system.vhost.url);
  const rabbitmq = String(
    (connection.connection as unknown as { serverProperties?: { version?: string } })
      .serverProperties?.version ?? 'unknown',
  );
  await connection.close();
  const [row] = await system.databases.order.query<{ server_version: string }>(
    'SHOW server_version',
  );
  const [vacuum] = await system.databases.order.query<{ autovacuum: string }>('SHOW autovacuum');
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    rabbitmq,
    postgres: row?.server_version.split(' ')[0] ?? 'unknown',
    autovacuum: vacuum?.autovacuum === 'on',
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    busyBeforeRun,
  };
}

export const POSTGRES_LABEL = 'postgres: the bench databases';
export const RABBITMQ_LABEL = 'rabbitmq (whole broker)';

/** The processes whose CPU is reported: the services, the load generator, Postgres, RabbitMQ. */
async function processGroups(config: BenchConfig, system: RunningSystem): Promise<ProcessGroup[]> {
  const ours = ServiceNames.map((service: ServiceName) => system.databases[service].name);
  const backends = await system.databases.order.query<{ pid: number; datname: string | null }>(
    'SELECT pid, datname FROM pg_stat_activity',
  );
  const brokerPort = Number(new URL(config.BENCH_RABBITMQ_URL).port || 5672);
  const broker = listeningPid(brokerPort);
  return [
    ...ServiceNames.map((service) => ({
      label: service,
      pids:
        system.services[service].pid === undefined ? [] : [system.services[service].pid as number],
    })),
    { label: 'load generator (this process)', pids: [process.pid] },
    {
      label: POSTGRES_LABEL,
      pids: backends.filter((b) => b.datname && ours.includes(b.datname)).map((b) => b.pid),
    },
    {
      label: 'postgres: background writers',
      pids: backends.filter((b) => b.datname === null).map((b) => b.pid),
    },
    { label: RABBITMQ_LABEL, pids: broker === undefined ? [] : [broker] },
  ];
}

/**
 * The services on a vhost and databases of their own (`test_bench_*`, made for this run and
 * dropped after it), so benchmark rows never reach the `make up` databases or the tests'.
 */
function startBenchSystem(config: BenchConfig): Promise<RunningSystem> {
  return startSystem({
    label: 'bench',
    servers: {
      rabbitmqUrl: config.BENCH_RABBITMQ_URL,
      rabbitmqManagementUrl: config.BENCH_RABBITMQ_MANAGEMENT_URL,
      postgresUrl: config.BENCH_POSTGRES_URL,
    },
    // As deployed (no fault switches; logging each message would be measured too), but with
    // the local-only credentials of the bench's own vhost, which NODE_ENV=production refuses;
    // nothing in the services runs differently under `test`.
    faultSwitches: false,
    env: { NODE_ENV: 'test', LOG_LEVEL: 'warn', ...config.BENCH_SERVICE_ENV },
    readyTimeoutMs: 60_000,
  });
}
