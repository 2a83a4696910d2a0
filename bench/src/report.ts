import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BenchResult, LatencyRun, SaturationStep, Style } from './runner';
import { saturationByStyle } from './runner';
import { formatCpu, formatMarkdown, formatMs, formatRate, formatText, type Table } from './table';
import { AFTER_PAYMENT, END_TO_END, PAYMENT_STEP, RELAY } from './timeline';

export interface TitledTable {
  title: string;
  table: Table;
}

/** The targets the issue set; reported beside the measurements, never asserted. */
export const TARGETS = {
  eventOrdersPerSecond: 1_000,
  p99EndToEndMsAt300: 100,
  relayP50Ms: 10,
} as const;

const stageOf = (run: LatencyRun | undefined, stage: string) =>
  run?.stages.find((s) => s.stage === stage)?.ms;

/** The headline: saturation per style, the targets, and the ceilings of the same run. */
export function headlineTable(result: BenchResult): Table {
  const best = saturationByStyle(result.saturation);
  const c = result.ceilings;
  const rows: string[][] = [];
  for (const style of ['event', 'command'] as Style[]) {
    const step = best[style];
    if (!step) continue;
    rows.push([
      `${style} style: orders/s completed end to end (saturation)`,
      `${formatRate(step.completedPerSecond)} (at ${step.concurrency} connections)`,
      style === 'event' ? `>= ${formatRate(TARGETS.eventOrdersPerSecond)}` : '',
    ]);
  }
  for (const run of result.latency.filter((r) => r.style === 'event')) {
    const at = `event style at ${run.rate} orders/s`;
    if (run.skipped) {
      const target = run.rate === 300 ? `p99 < ${TARGETS.p99EndToEndMsAt300} ms` : '';
      rows.push([`${at}: end to end`, `not measured: ${run.skipped}`, target]);
      continue;
    }
    const e2e = stageOf(run, END_TO_END);
    rows.push([
      `${at}: end to end p50 / p99`,
      `${formatMs(e2e?.p50)} / ${formatMs(e2e?.p99)} ms`,
      run.rate === 300 ? `p99 < ${TARGETS.p99EndToEndMsAt300} ms` : '',
    ]);
    rows.push([
      `${at}: outbox relay (commit -> confirmed) p50`,
      `${formatMs(stageOf(run, RELAY)?.p50)} ms`,
      `< ${TARGETS.relayP50Ms} ms`,
    ]);
  }
  for (const style of ['event', 'command'] as Style[]) {
    const run = result.latency.find((r) => r.style === style && !r.skipped);
    const step = stageOf(run, PAYMENT_STEP);
    if (!run || !step) continue;
    rows.push([
      `${style} style at ${run.rate} orders/s: payment step (202 -> decision at Order) p50 / mean`,
      `${formatMs(step.p50)} / ${formatMs(step.mean)} ms (end to end p50 ${formatMs(stageOf(run, END_TO_END)?.p50)} ms)`,
      '',
    ]);
  }
  rows.push(
    [
      `ceiling: amqplib publish with confirms, quorum queue (${c.messageBytes} B)`,
      `${formatRate(c.publishConfirmedPerSecond)} msg/s`,
      '',
    ],
    [
      'ceiling: amqplib consume with ack, same queue',
      `${formatRate(c.consumeAckedPerSecond)} msg/s`,
      '',
    ],
    [
      `ceiling: pg single-row INSERT, ${c.postgresClients} connections`,
      `${formatRate(c.insertPerSecond)} tx/s`,
      '',
    ],
    [
      'ceiling: pg BEGIN/INSERT/COMMIT (interactive-transaction shape)',
      `${formatRate(c.insertInTransactionPerSecond)} tx/s`,
      '',
    ],
    [
      'ceiling: pg BEGIN/INSERT/NOTIFY/COMMIT',
      `${formatRate(c.insertWithNotifyPerSecond)} tx/s (NOTIFY heard after p50 ${formatMs(c.notifyLatencyMs?.p50)} ms)`,
      '',
    ],
  );
  return { header: ['measure', 'measured', 'target'], rows, alignRight: [false, true, true] };
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
    header: ['stage (ms)', ...runs.flatMap((run) => [`${run.rate}/s p50`, 'p95', 'p99', 'max'])],
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
      'orders/s',
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
        String(run.rate),
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

/** CPU of each process during each style's saturation step, in % of one core. */
export function cpuTable(steps: SaturationStep[]): Table {
  const best = Object.values(saturationByStyle(steps)).filter(
    (step): step is SaturationStep => step !== undefined,
  );
  const labels = best[0]?.cpu.processes.map((p) => p.label) ?? [];
  return {
    header: [
      'process (% of one core)',
      ...best.map((step) => `${step.style} @ ${step.concurrency} conn.`),
    ],
    rows: [
      ...labels.map((label) => [
        label,
        ...best.map((step) =>
          formatCpu(step.cpu.processes.find((p) => p.label === label)?.percent),
        ),
      ]),
      ['other processes on the machine', ...best.map((step) => formatCpu(step.cpu.others))],
      ['machine total', ...best.map((step) => formatCpu(step.cpu.machine))],
    ],
  };
}

const paymentRuns = (runs: LatencyRun[]): boolean =>
  runs.some((run) => !run.skipped && stageOf(run, PAYMENT_STEP));

export function tablesOf(result: BenchResult): TitledTable[] {
  const styles = [...new Set(result.latency.map((run) => run.style))];
  return [
    { title: 'Summary', table: headlineTable(result) },
    {
      title: 'Saturation: rising concurrency of POST /orders (autocannon)',
      table: saturationTable(result.saturation),
    },
    ...styles.map((style) => {
      const runs = result.latency.filter((run) => run.style === style);
      const skipped = runs
        .filter((run) => run.skipped)
        .map((run) => `${run.rate}/s: ${run.skipped}`);
      return {
        title:
          `Latency at fixed rates, ${style} style (open loop, evenly spaced POSTs)` +
          (skipped.length > 0 ? `; not measured: ${skipped.join(', ')}` : ''),
        table: latencyTable(runs),
      };
    }),
    ...(paymentRuns(result.latency)
      ? [
          {
            title:
              'The Payment hop per style: 202 -> payment decision at Order, then decision -> COMPLETED (fixed rates)',
            table: paymentTable(result.latency),
          },
        ]
      : []),
    {
      title: 'CPU during saturation (best step of each style)',
      table: cpuTable(result.saturation),
    },
  ];
}

export function machineLine(result: BenchResult): string {
  const m = result.machine;
  return (
    `${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}, RabbitMQ ${m.rabbitmq}, ` +
    `Postgres ${m.postgres}; broker, database, load generator and services on the one machine. ` +
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

/** Writes results.json, summary.md and the charts; returns the folder. */
export async function writeResults(root: string, result: BenchResult): Promise<string> {
  const folder = path.join(root, resultsFolderName(result.startedAt));
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(path.join(folder, 'summary.md'), `${markdownReport(result)}\n`);
  return folder;
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
