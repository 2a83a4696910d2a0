import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import amqplib from 'amqplib';
import { ServiceNames, type ServiceName } from '@app/contracts';
import { anOrderRequest, startSystem, type RunningSystem } from '@app/testing';
import { measureBroker, measurePostgres, type Ceilings } from './ceilings';
import type { BenchConfig } from './config';
import { listeningPid, startCpuSample, type CpuUse, type ProcessGroup } from './cpu';
import { placeAtRate, placeWithConcurrency } from './load';
import { perSecond, rateInWindow, saturationOf } from './rates';
import { summarize, type Summary } from './stats';
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
  loadAverage: number[];
  /** CPU busy on the machine, in % of one core, in the seconds before the run began. */
  busyBeforeRun: number;
}

export interface LatencyRun {
  style: Style;
  rate: number;
  seconds: number;
  placed: number;
  failures: number;
  failureReasons: Record<string, number>;
  completed: number;
  /** Orders not completed when the wait for them ended. */
  open: number;
  /** Why the run was not made (a rate above the style's saturation). */
  skipped?: string;
  stages: { stage: string; ms: Summary | undefined }[];
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

export interface BenchResult {
  startedAt: string;
  durationMs: number;
  machine: Machine;
  settings: Record<string, unknown>;
  ceilings: Ceilings;
  latency: LatencyRun[];
  saturation: SaturationStep[];
}

/**
 * Runs everything in order: ceilings, warm-up, rising-load saturation, then latency at
 * the fixed rates that are below saturation.
 */
export async function runBench(
  config: BenchConfig,
  say: (line: string) => void,
): Promise<BenchResult> {
  const started = Date.now();
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

    const orderUrl = system.url('order');
    const bodyOf = (style: Style): string => JSON.stringify(anOrderRequest({ style }));
    say('Warming up (both styles, 2 s each at 100 orders/s) ...');
    for (const style of config.BENCH_STYLES) {
      const since = Date.now();
      await placeAtRate(orderUrl, bodyOf(style), 100, 2);
      await waitForCompletion(
        system.databases.order,
        since,
        config.BENCH_DRAIN_TIMEOUT_SECONDS * 1000,
      );
    }

    const saturation: SaturationStep[] = [];
    for (const style of config.BENCH_STYLES) {
      for (const concurrency of config.BENCH_CONCURRENCY) {
        say(
          `Saturation, ${style} style, ${concurrency} connections for ${config.BENCH_STEP_SECONDS} s ...`,
        );
        const groups = await processGroups(config, system);
        const since = Date.now();
        const cpu = startCpuSample(groups);
        const cpuUntilDrained = startCpuSample(groups);
        const run = await placeWithConcurrency(
          orderUrl,
          bodyOf(style),
          concurrency,
          config.BENCH_STEP_SECONDS,
        );
        const ended = Date.now();
        const used = cpu.finish(await processGroups(config, system));
        const { placed, completedAt } = await completionsSince(system.databases.order, since);
        const drain = await waitForCompletion(
          system.databases.order,
          since,
          config.BENCH_DRAIN_TIMEOUT_SECONDS * 1000,
        );
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
          serviceCpuMsPerOrder: cpuMsPerOrder(
            cpuUntilDrained.finish(await processGroups(config, system)),
            placed,
          ),
        };
        saturation.push(step);
        say(
          `  accepted ${Math.round(step.acceptedPerSecond)}/s, completed ${Math.round(step.completedPerSecond)}/s, ` +
            `backlog ${step.backlogAtEnd} (drained in ${(step.drainMs / 1000).toFixed(1)} s), ` +
            `services ${step.serviceCpuMsPerOrder?.toFixed(1)} ms CPU/order, machine CPU ${Math.round(used.machine)}%, others ${Math.round(used.others)}%`,
        );
      }
    }
    const latency: LatencyRun[] = [];
    for (const style of config.BENCH_STYLES) {
      const saturated = saturationOf(saturation.filter((step) => step.style === style));
      for (const rate of config.BENCH_RATES) {
        if (saturated && rate > saturated.completedPerSecond) {
          // Above saturation the queues only grow: latency has no steady value to measure.
          say(
            `Latency, ${style} style, ${rate} orders/s: skipped, above this run's saturation ` +
              `(${Math.round(saturated.completedPerSecond)}/s)`,
          );
          latency.push({
            style,
            rate,
            seconds: 0,
            placed: 0,
            failures: 0,
            failureReasons: {},
            completed: 0,
            open: 0,
            stages: [],
            skipped: `above saturation (${Math.round(saturated.completedPerSecond)} orders/s)`,
          });
          continue;
        }
        say(`Latency, ${style} style, ${rate} orders/s for ${config.BENCH_RATE_SECONDS} s ...`);
        const since = Date.now();
        const run = await placeAtRate(orderUrl, bodyOf(style), rate, config.BENCH_RATE_SECONDS);
        const { open } = await waitForCompletion(
          system.databases.order,
          since,
          config.BENCH_DRAIN_TIMEOUT_SECONDS * 1000,
        );
        const timeline = await readTimeline(
          system.databases,
          run.orders.map((order) => order.id),
        );
        const stages = stagesOf(run.orders, timeline);
        const result: LatencyRun = {
          style,
          rate,
          seconds: config.BENCH_RATE_SECONDS,
          placed: run.orders.length,
          failures: run.failures,
          failureReasons: run.failureReasons,
          completed: timeline.orders.filter((o) => o.status === 'COMPLETED').length,
          open,
          stages: [...stages].map(([stage, values]) => ({ stage, ms: summarize(values) })),
        };
        latency.push(result);
        const e2e = result.stages.at(-1)?.ms;
        say(
          `  ${result.completed}/${result.placed} completed; end to end p50 ${e2e?.p50.toFixed(0)} ms, ` +
            `p99 ${e2e?.p99.toFixed(0)} ms${result.failures ? `; ${result.failures} POSTs failed (${JSON.stringify(result.failureReasons)})` : ''}`,
        );
      }
    }

    return {
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      machine,
      settings: {
        concurrency: config.BENCH_CONCURRENCY,
        stepSeconds: config.BENCH_STEP_SECONDS,
        stepWarmupSeconds: config.BENCH_STEP_WARMUP_SECONDS,
        rates: config.BENCH_RATES,
        rateSeconds: config.BENCH_RATE_SECONDS,
        ceilingSeconds: config.BENCH_CEILING_SECONDS,
        serviceEnv: config.BENCH_SERVICE_ENV,
      },
      ceilings,
      latency,
      saturation,
    };
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    say('Stopping the services, dropping the bench vhost and databases ...');
    await system.teardown();
  }
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
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    rabbitmq,
    postgres: row?.server_version.split(' ')[0] ?? 'unknown',
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    busyBeforeRun,
  };
}

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
      label: 'postgres: the bench databases',
      pids: backends.filter((b) => b.datname && ours.includes(b.datname)).map((b) => b.pid),
    },
    {
      label: 'postgres: background writers',
      pids: backends.filter((b) => b.datname === null).map((b) => b.pid),
    },
    { label: 'rabbitmq (whole broker)', pids: broker === undefined ? [] : [broker] },
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
