import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ServiceNames } from '@app/contracts';
import type {
  BenchResult,
  LatencyRun,
  OverloadRun,
  ProfileRun,
  SaturationStep,
  Style,
  SustainSearch,
  SustainStep,
} from './runner';
import { POSTGRES_LABEL, RABBITMQ_LABEL, saturationByStyle } from './runner';
import { KEEPS_UP } from './sustain';
import type { CpuPerOrder } from './cost';
import { formatCpu, formatMarkdown, formatMs, formatRate, formatText, type Table } from './table';
import { AFTER_PAYMENT, END_TO_END, PAYMENT_STEP, RELAY } from './timeline';

export interface TitledTable {
  title: string;
  table: Table;
}

/** The targets the issue set; reported beside the measurements, never asserted. */
export const TARGETS = {
  eventOrdersPerSecond: 1_000,
  p99EndToEndMsAtHalf: 100,
  relayP50Ms: 10,
  overloadShare: 0.9,
} as const;

/**
 * The figures of the run before this bench measured sustained rates (2026-11-29 04:48:
 * closed-loop saturation, latency at a fixed 100 orders/s), shown beside the new measures.
 */
export const BEFORE = {
  source: 'the run of 2026-11-29 04:48: closed-loop saturation, latency at 100 orders/s',
  event: { ordersPerSecond: '159 (saturation)', latency: '38 / 102 ms (at 100/s)' },
  command: { ordersPerSecond: '174 (saturation)', latency: '29 / 59 ms (at 100/s)' },
} as const;

const STYLES: Style[] = ['event', 'command'];

const stageOf = (run: LatencyRun | undefined, stage: string) =>
  run?.stages.find((s) => s.stage === stage)?.ms;

const percent = (share: number): string =>
  share < 0.1 ? `${(100 * share).toFixed(1)}%` : `${Math.round(100 * share)}%`;

/** `50% of sustained (80/s)`, or `100/s` for a rate set by BENCH_RATES. */
export const rateLabel = (run: { rate: number; share?: number }): string =>
  run.share === undefined ? `${run.rate}/s` : `${percent(run.share)} (${run.rate}/s)`;

/** The step of a search at its sustained rate. */
export const sustainedStep = (search: SustainSearch | undefined): SustainStep | undefined =>
  search?.steps.find((step) => step.rate === search.sustained);

/** CPU ms per order of one process group in a step (a sustained or a latency step). */
const costOf = (step: { cost?: { cpu: CpuPerOrder[] } } | undefined, label: string) =>
  step?.cost?.cpu.find((p) => p.label === label)?.msPerOrder;

/** CPU ms per order of the services together. */
const servicesCostOf = (cpu: CpuPerOrder[] | undefined): number | undefined =>
  cpu
    ?.filter((p) => (ServiceNames as readonly string[]).includes(p.label))
    .reduce((sum, p) => sum + p.msPerOrder, 0);

/** The headline: the four measures per style with their targets, then the ceilings. */
export function headlineTable(result: BenchResult): Table {
  const best = saturationByStyle(result.saturation);
  const c = result.ceilings;
  const rows: string[][] = [];
  for (const style of STYLES) {
    const search = result.sustain.find((s) => s.style === style);
    if (!search) continue;
    const measured =
      search.sustained === undefined
        ? `none held (tried ${search.steps.map((step) => step.rate).join(', ')})`
        : `${formatRate(search.sustained)} (${percent(search.sustained / c.insertPerSecond)} of the pg insert ceiling; saturation ${formatRate(best[style]?.completedPerSecond)})`;
    rows.push([
      `${style} style: sustained orders/s (${search.steps[0]?.seconds ?? 0} s open loop, kept up)`,
      measured,
      style === 'event' ? `>= ${formatRate(TARGETS.eventOrdersPerSecond)}` : '',
      BEFORE[style].ordersPerSecond,
    ]);
  }
  for (const style of STYLES) {
    const runs = result.latency.filter((r) => r.style === style && !r.skipped);
    const half = runs.find((r) => r.share === 0.5) ?? runs[Math.floor(runs.length / 2)];
    if (!half) continue;
    const e2e = stageOf(half, END_TO_END);
    rows.push([
      `${style} style at ${rateLabel(half)}: end to end p50 / p99`,
      `${formatMs(e2e?.p50)} / ${formatMs(e2e?.p99)} ms`,
      `p99 < ${TARGETS.p99EndToEndMsAtHalf} ms`,
      BEFORE[style].latency,
    ]);
    const others = runs.filter((r) => r !== half);
    if (others.length > 0) {
      rows.push([
        `${style} style at ${others.map(rateLabel).join(', ')}: end to end p50 / p99`,
        others
          .map(
            (r) =>
              `${formatMs(stageOf(r, END_TO_END)?.p50)} / ${formatMs(stageOf(r, END_TO_END)?.p99)}`,
          )
          .join(', ') + ' ms',
        '',
        '',
      ]);
    }
    if (style === 'event') {
      rows.push([
        `${style} style at ${rateLabel(half)}: outbox relay (commit -> confirmed) p50`,
        `${formatMs(stageOf(half, RELAY)?.p50)} ms`,
        `< ${TARGETS.relayP50Ms} ms`,
        '8.3 ms (at 100/s)',
      ]);
    }
  }
  for (const run of result.overload) {
    const at = `${run.style} style at twice sustained (${run.rate}/s, ${run.seconds} s)`;
    rows.push(
      [
        `${at}: completed/s during the step`,
        `${formatRate(run.completedPerSecond)} (${percent(run.shareOfSustained)} of sustained)`,
        `>= ${percent(TARGETS.overloadShare)} of sustained`,
        '',
      ],
      [
        `${at}: POSTs accepted (202) / refused (503) / other failures`,
        `${run.accepted} / ${run.refused} (${run.refused === 0 ? 'none' : run.refusedWithRetryAfter === run.refused ? 'all' : run.refusedWithRetryAfter} with Retry-After) / ${run.otherFailures}`,
        '',
        '',
      ],
      [
        `${at}: largest backlog; drained after the step in`,
        `${run.maxBacklog} orders; ${(run.drainMs / 1000).toFixed(1)} s${run.openAfterDrain > 0 ? ` (${run.openAfterDrain} still open)` : ''}`,
        '',
        '',
      ],
    );
  }
  for (const style of STYLES) {
    const step = sustainedStep(result.sustain.find((s) => s.style === style));
    if (!step) continue;
    const services = servicesCostOf(step.cost.cpu);
    const total = step.cost.transactions.find((t) => t.label === 'total');
    rows.push(
      [
        `${style} style at ${step.rate}/s: CPU ms per order: services / postgres / rabbitmq / machine`,
        [
          services,
          costOf(step, POSTGRES_LABEL),
          costOf(step, RABBITMQ_LABEL),
          costOf(step, 'machine total'),
        ]
          .map(formatMs)
          .join(' / '),
        '',
        style === 'event' ? '3.7 services (saturation)' : '',
      ],
      [
        `${style} style at ${step.rate}/s: database transactions per order (commits + rollbacks)`,
        `${total?.commitsPerOrder.toFixed(1)} + ${total?.rollbacksPerOrder.toFixed(2)}`,
        '',
        '',
      ],
    );
  }
  if ('frames' in result.profile) {
    const top = result.profile.frames
      .slice(0, 3)
      .map((f) => `${f.functionName} ${percent(f.share)}`)
      .join(', ');
    rows.push([
      `CPU profile of ${result.profile.service} (busiest), ${result.profile.style} style at ${result.profile.rate}/s: top frames by self time`,
      top,
      '',
      '',
    ]);
  }
  rows.push(
    [
      `ceiling: amqplib publish with confirms, quorum queue (${c.messageBytes} B)`,
      `${formatRate(c.publishConfirmedPerSecond)} msg/s`,
      '',
      '',
    ],
    [
      'ceiling: amqplib consume with ack, same queue',
      `${formatRate(c.consumeAckedPerSecond)} msg/s`,
      '',
      '',
    ],
    [
      `ceiling: pg single-row INSERT, ${c.postgresClients} connections`,
      `${formatRate(c.insertPerSecond)} tx/s`,
      '',
      '',
    ],
    [
      'ceiling: pg BEGIN/INSERT/COMMIT (interactive-transaction shape)',
      `${formatRate(c.insertInTransactionPerSecond)} tx/s`,
      '',
      '',
    ],
    [
      'ceiling: pg BEGIN/INSERT/NOTIFY/COMMIT',
      `${formatRate(c.insertWithNotifyPerSecond)} tx/s (NOTIFY heard after p50 ${formatMs(c.notifyLatencyMs?.p50)} ms)`,
      '',
      '',
    ],
  );
  return {
    header: ['measure', 'measured', 'target', 'before'],
    rows,
    alignRight: [false, true, true, true],
  };
}

/** Every step of each style's search: the rate, what completed, and whether it held. */
export function sustainTable(searches: SustainSearch[]): Table {
  return {
    header: [
      'style',
      'orders/s offered',
      'completed/s (2nd half)',
      'backlog at end',
      'failed POSTs',
      'held',
      'drained in s',
      'why not',
    ],
    rows: searches.flatMap((search) =>
      search.steps.map((step) => [
        step.style,
        String(step.rate),
        formatRate(step.completedPerSecondInSecondHalf),
        String(step.backlogAtEnd),
        String(step.failures),
        step.held ? 'yes' : 'no',
        (step.drainMs / 1000).toFixed(1),
        step.reasons.join('; '),
      ]),
    ),
    alignRight: [false, true, true, true, true, false, true, false],
  };
}

/** The overload step of each style: outcomes, completions, backlog and drain. */
export function overloadTable(runs: OverloadRun[]): Table {
  return {
    header: [
      'style',
      'orders/s offered',
      'accepted (202)',
      'refused (503)',
      'with Retry-After',
      'other failures',
      'completed/s',
      'of sustained',
      'largest backlog',
      'drained in s',
    ],
    rows: runs.map((run) => [
      run.style,
      String(run.rate),
      String(run.accepted),
      String(run.refused),
      String(run.refusedWithRetryAfter),
      String(run.otherFailures),
      formatRate(run.completedPerSecond),
      percent(run.shareOfSustained),
      String(run.maxBacklog),
      (run.drainMs / 1000).toFixed(1),
    ]),
  };
}

/** Completions (and 202s) per second of the overload step and of the drain after it. */
export function overloadSecondsTable(runs: OverloadRun[]): Table {
  const seconds = (run: OverloadRun, phase: 'step' | 'drain') =>
    run.timeline.filter((b) =>
      phase === 'step' ? b.second < run.seconds : b.second >= run.seconds,
    );
  return {
    header: ['style', 'phase', 'per 1 s bucket'],
    rows: runs.flatMap((run) => [
      [
        run.style,
        'step: accepted',
        seconds(run, 'step')
          .map((b) => b.accepted)
          .join(' '),
      ],
      [
        run.style,
        'step: completed',
        seconds(run, 'step')
          .map((b) => b.completed)
          .join(' '),
      ],
      [
        run.style,
        'drain: completed',
        seconds(run, 'drain')
          .map((b) => b.completed)
          .join(' '),
      ],
    ]),
    alignRight: [false, false, false],
  };
}

/** CPU and transactions per completed order at each style's sustained rate. */
export function costTable(searches: SustainSearch[]): Table {
  const steps = searches
    .map(sustainedStep)
    .filter((step): step is SustainStep => step !== undefined);
  const labels = steps[0]?.cost.cpu.map((p) => p.label) ?? [];
  return {
    header: [
      'per completed order',
      ...steps.flatMap((step) => [`${step.style} @ ${step.rate}/s: CPU ms`, '% of one core']),
    ],
    rows: labels.map((label) => [
      label,
      ...steps.flatMap((step) => {
        const p = step.cost.cpu.find((q) => q.label === label);
        return [formatMs(p?.msPerOrder), formatCpu(p?.percent)];
      }),
    ]),
  };
}

export function transactionsTable(searches: SustainSearch[]): Table {
  const steps = searches
    .map(sustainedStep)
    .filter((step): step is SustainStep => step !== undefined);
  const labels = steps[0]?.cost.transactions.map((t) => t.label) ?? [];
  return {
    header: [
      'database',
      ...steps.flatMap((step) => [
        `${step.style} @ ${step.rate}/s: commits/order`,
        'rollbacks/order',
      ]),
    ],
    rows: labels.map((label) => [
      label,
      ...steps.flatMap((step) => {
        const t = step.cost.transactions.find((q) => q.label === label);
        return [
          t ? t.commitsPerOrder.toFixed(2) : 'n/a',
          t ? t.rollbacksPerOrder.toFixed(2) : 'n/a',
        ];
      }),
    ]),
  };
}

export function profileTable(profile: ProfileRun): Table {
  return {
    header: ['#', 'function', 'where', 'self ms', 'of busy time'],
    rows: profile.frames.map((frame, i) => [
      String(i + 1),
      frame.functionName,
      frame.location,
      formatMs(frame.selfMs),
      percent(frame.share),
    ]),
    alignRight: [true, false, false, true, true],
  };
}

export function saturationTable(steps: SaturationStep[]): Table {
  return {
    header: [
      'style',
      'connections',
      'POSTs accepted/s',
      'completed/s',
      'POST p50 ms',
      'POST p99 ms',
      'backlog at end',
      'drained in s',
      'failed POSTs',
      'service CPU ms/order',
    ],
    rows: steps.map((step) => [
      step.style,
      String(step.concurrency),
      formatRate(step.acceptedPerSecond),
      formatRate(step.completedPerSecond),
      formatMs(step.postLatencyMs.p50),
      formatMs(step.postLatencyMs.p99),
      String(step.backlogAtEnd),
      (step.drainMs / 1000).toFixed(1),
      String(step.failures),
      formatMs(step.serviceCpuMsPerOrder),
    ]),
  };
}

/** Stage latencies of one style, the fixed rates side by side. */
export function latencyTable(allRuns: LatencyRun[]): Table {
  const runs = allRuns.filter((run) => !run.skipped);
  const stages = [...new Set(runs.flatMap((run) => run.stages.map((s) => s.stage)))];
  return {
    header: [
      'stage (ms)',
      ...runs.flatMap((run) => [`${rateLabel(run)} p50`, 'p95', 'p99', 'max']),
    ],
    rows: stages.map((stage) => [
      stage,
      ...runs.flatMap((run) => {
        const ms = stageOf(run, stage);
        return [formatMs(ms?.p50), formatMs(ms?.p95), formatMs(ms?.p99), formatMs(ms?.max)];
      }),
    ]),
  };
}

/**
 * CPU at each latency rate (second half of its step): how busy the machine was, and what
 * an order cost there. Each delivery costs its own statement at low load, a share of a
 * batch's near saturation, so the cost per order falls as the rate rises, and latency
 * depends on how near the machine is to full.
 */
export function latencyCostTable(allRuns: LatencyRun[]): Table {
  const runs = allRuns.filter((run) => !run.skipped && run.cost);
  return {
    header: [
      'style',
      'rate',
      'machine CPU (100% is one core)',
      'CPU ms per order: services',
      'postgres',
      'rabbitmq',
      'machine',
    ],
    rows: runs.map((run) => [
      run.style,
      rateLabel(run),
      formatCpu(run.cost?.machinePercent),
      formatMs(servicesCostOf(run.cost?.cpu)),
      formatMs(costOf(run, POSTGRES_LABEL)),
      formatMs(costOf(run, RABBITMQ_LABEL)),
      formatMs(costOf(run, 'machine total')),
    ]),
  };
}

/**
 * What the Payment hop costs, per style and rate: the payment step (the 202 to the
 * decision in Order's inbox), what still follows it until the order completes, and end to
 * end. With commands the invoice and shipment wait for the decision, so the two add up to
 * about the whole; with events they run beside Payment and little follows the decision.
 */
export function paymentTable(allRuns: LatencyRun[]): Table {
  const runs = allRuns.filter((run) => !run.skipped && stageOf(run, PAYMENT_STEP));
  return {
    header: [
      'style',
      'rate',
      'payment step p50 ms',
      'mean',
      'p99',
      'decision -> COMPLETED p50 ms',
      'end to end p50 ms',
      'payment step / end to end (p50)',
    ],
    rows: runs.map((run) => {
      const step = stageOf(run, PAYMENT_STEP);
      const e2e = stageOf(run, END_TO_END);
      const share = step && e2e && e2e.p50 > 0 ? `${Math.round((100 * step.p50) / e2e.p50)}%` : '–';
      return [
        run.style,
        rateLabel(run),
        formatMs(step?.p50),
        formatMs(step?.mean),
        formatMs(step?.p99),
        formatMs(stageOf(run, AFTER_PAYMENT)?.p50),
        formatMs(e2e?.p50),
        share,
      ];
    }),
  };
}

const paymentRuns = (runs: LatencyRun[]): boolean =>
  runs.some((run) => !run.skipped && stageOf(run, PAYMENT_STEP));

export function tablesOf(result: BenchResult): TitledTable[] {
  const styles = [...new Set(result.latency.map((run) => run.style))];
  return [
    { title: `Summary (before: ${BEFORE.source})`, table: headlineTable(result) },
    {
      title: `Sustained rate: open-loop steps, held when completions kept up (second half >= ${percent(KEEPS_UP.completedShare)} of the rate, backlog <= ${KEEPS_UP.backlogSeconds} s of arrivals, no failed POST)`,
      table: sustainTable(result.sustain),
    },
    {
      title: 'Saturation: rising concurrency of POST /orders (autocannon), the first estimate',
      table: saturationTable(result.saturation),
    },
    ...styles.map((style) => {
      const runs = result.latency.filter((run) => run.style === style);
      const skipped = runs
        .filter((run) => run.skipped)
        .map((run) => `${rateLabel(run)}: ${run.skipped}`);
      return {
        title:
          `Latency at shares of the sustained rate, ${style} style (open loop, evenly spaced POSTs)` +
          (skipped.length > 0 ? `; not measured: ${skipped.join(', ')}` : ''),
        table: latencyTable(runs),
      };
    }),
    ...(result.latency.some((run) => run.cost)
      ? [
          {
            title:
              'CPU at the latency rates (second half of each step): how busy the machine was, and the cost of an order there',
            table: latencyCostTable(result.latency),
          },
        ]
      : []),
    ...(paymentRuns(result.latency)
      ? [
          {
            title:
              'The Payment hop per style: 202 -> payment decision at Order, then decision -> COMPLETED',
            table: paymentTable(result.latency),
          },
        ]
      : []),
    ...(result.overload.length > 0
      ? [
          {
            title: 'Overload: twice the sustained rate, open loop (backlog sampled every 500 ms)',
            table: overloadTable(result.overload),
          },
          {
            title: 'Overload, second by second: 202s answered and orders completed (overload.png)',
            table: overloadSecondsTable(result.overload),
          },
        ]
      : []),
    {
      title: 'Cost per completed order at the sustained rate (second half of the step)',
      table: costTable(result.sustain),
    },
    {
      title:
        'Database transactions per completed order at the sustained rate (pg_stat_database, second half of the step)',
      table: transactionsTable(result.sustain),
    },
    ...('frames' in result.profile
      ? [
          {
            title: `CPU profile: ${result.profile.service}, ${result.profile.style} style at ${result.profile.rate}/s for ${result.profile.seconds} s, top frames by self time (${formatMs(result.profile.busyMs)} ms busy; ${result.profile.file})`,
            table: profileTable(result.profile),
          },
        ]
      : []),
  ];
}

export function machineLine(result: BenchResult): string {
  const m = result.machine;
  return (
    `${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}, RabbitMQ ${m.rabbitmq}, ` +
    `Postgres ${m.postgres}${m.autovacuum === false ? ' (autovacuum off: the bench vacuums and analyzes its databases after each step)' : ''}; broker, database, load generator and services on the one machine. ` +
    `Before the run the machine was ${Math.round(m.busyBeforeRun)}% busy (of ${m.cpus * 100}%), ` +
    `load average ${m.loadAverage.join(' / ')}.`
  );
}

export const textReport = (result: BenchResult): string =>
  tablesOf(result)
    .map(({ title, table }) => `${title}\n\n${formatText(table)}`)
    .join('\n\n');

export function markdownReport(result: BenchResult): string {
  return [
    `Run ${result.startedAt} (${(result.durationMs / 1000).toFixed(0)} s). ${machineLine(result)}`,
    ...tablesOf(result).map(({ title, table }) => `**${title}**\n\n${formatMarkdown(table)}`),
  ].join('\n\n');
}

/** `results/bench-2024-05-01T12-30-05`: sortable, and safe in every file system. */
export const resultsFolderName = (startedAt: string): string =>
  `bench-${startedAt.slice(0, 19).replace(/:/g, '-')}`;

/** Writes results.json and summary.md into the run's folder. */
export async function writeResults(folder: string, result: BenchResult): Promise<void> {
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(path.join(folder, 'summary.md'), `${markdownReport(result)}\n`);
}

const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

/** Replaces what stands between the bench markers of a page with this run's report. */
export function withReport(page: string, report: string): string {
  const from = page.indexOf(START);
  const to = page.indexOf(END);
  if (from < 0 || to < from) throw new Error(`the page has no ${START} ... ${END} block`);
  return `${page.slice(0, from + START.length)}\n\n${report}\n\n${page.slice(to)}`;
}

/** The performance page with this run's report between its markers; a bare page when there is none yet. */
export function performancePage(existing: string | undefined, report: string): string {
  return withReport(existing ?? `# Performance\n\n## Latest run\n\n${START}\n${END}\n`, report);
}

/** Rewrites the latest-run tables of `docs/performance.md` (`file`), making the page if missing. */
export async function updatePerformancePage(file: string, result: BenchResult): Promise<void> {
  const existing = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, performancePage(existing, markdownReport(result)));
}
