import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import path from 'node:path';
import type { ClusterResult } from './cluster';

/** The run in a few lines, for the console and the head of summary.md. */
export function clusterSummary(result: ClusterResult): string {
  const { ledger, options } = result;
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return [
    `cluster failover: ${options.orders} orders at ${options.rate}/s, both styles, ` +
      `${options.instances} instance(s) of order, invoicing, shipping and payment; ` +
      `load ${s(result.durationMs.load)}, settle ${s(result.durationMs.settle)}, total ${s(result.durationMs.total)}`,
    `ledger: orders ${ledger.orders}, completed ${ledger.completed}, cancelled ${ledger.cancelled}, ` +
      `lost ${ledger.lost}, doubled ${ledger.doubled}, miscounted ${ledger.miscounted}, ` +
      `uncompensated ${ledger.uncompensated}; redeliveries absorbed ${JSON.stringify(ledger.redeliveries)}`,
    `orders/s from the first placed to the last completed: ${result.ordersPerSecond}`,
    `POSTs answered other than 202 and retried with the same Idempotency-Key: ${result.rejectedPosts}`,
    ...result.stops.map(
      (stop) =>
        `${stop.node} stopped at ${stop.stoppedAt.toFixed(1)} s, back at ${stop.startedAt.toFixed(1)} s ` +
        `(down ${s(stop.downMs)}): ${stop.moves.length} leader(s) moved, slowest ${s(Math.max(0, ...stop.moves.map((m) => m.moveMs)))}` +
        (stop.unmoved.length > 0 ? `; NOT moved: ${stop.unmoved.join(', ')}` : ''),
    ),
    `three nodes while it ran: RSS mean ${result.nodeCost.rssMiB.mean} MiB, peak ${result.nodeCost.rssMiB.peak} MiB; ` +
      `CPU mean ${result.nodeCost.cpuCores.mean} cores, peak ${result.nodeCost.cpuCores.peak} (2 s windows)`,
    `reconnects: ${Object.entries(result.reconnects)
      .map(([label, r]) => `${label} ${r.reconnects} (now on ${r.node ?? 'none'})`)
      .join(', ')}`,
  ].join('\n');
}

/** results.json, summary.md and a chart of orders/s over time in `<dir>/cluster-<time>/`. */
export async function writeClusterReport(result: ClusterResult, dir: string): Promise<string> {
  const folder = path.join(dir, `cluster-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);
  const moves = result.stops.flatMap((stop) =>
    stop.moves.map(
      (m) => `| ${m.queue} | ${m.from} | ${m.to} | ${(m.moveMs / 1000).toFixed(1)} s |`,
    ),
  );
  const markdown = [
    '# Cluster failover run',
    '',
    '```',
    clusterSummary(result),
    '```',
    '',
    '![orders per second](orders-per-second.png)',
    '',
    '## Leader moves',
    '',
    'Time to move: from the stop command to the first answer of a surviving node naming another leader.',
    '',
    '| queue | from | to | time to move |',
    '| --- | --- | --- | --- |',
    ...moves,
    '',
    '## Reconnects per process',
    '',
    '| process | reconnects | connected to at the end |',
    '| --- | --- | --- |',
    ...Object.entries(result.reconnects).map(
      ([label, r]) => `| ${label} | ${r.reconnects} | ${r.node ?? '-'} |`,
    ),
    '',
  ].join('\n');
  await writeFile(path.join(folder, 'summary.md'), markdown);
  await renderInChildProcess(throughputChart(result), folder, 'orders-per-second');
  return folder;
}

/**
 * The demo's `renderChart` (vega, resvg) loads ES modules with `import()`, which jest's VM
 * refuses without --experimental-vm-modules: it runs in a node of its own instead.
 */
async function renderInChildProcess(spec: unknown, folder: string, file: string): Promise<void> {
  const specFile = path.join(folder, `${file}.vl.json`);
  await writeFile(specFile, JSON.stringify(spec));
  const script = `require('@app/demo/charts').renderChart(JSON.parse(require('node:fs').readFileSync(process.argv[1], 'utf8')), process.argv[2], process.argv[3]).catch((err) => { console.error(err); process.exit(1); })`;
  await promisify(execFile)(process.execPath, ['-e', script, specFile, folder, file], {
    cwd: path.resolve(__dirname, '../..'),
    timeout: 60_000,
  });
}

/** Orders placed and terminal per second, with the node stops shaded. */
export function throughputChart(result: ClusterResult): Record<string, unknown> {
  const points = result.throughput.flatMap((row) => [
    { second: row.second, series: 'placed', orders: row.placed },
    { second: row.second, series: 'terminal (completed)', orders: row.terminal },
  ]);
  const stops = result.stops.map((stop) => ({
    from: stop.stoppedAt,
    to: stop.startedAt,
    node: `${stop.node} down`,
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Orders per second while broker nodes are stopped',
    width: 640,
    height: 260,
    layer: [
      {
        data: { values: stops },
        mark: { type: 'rect', opacity: 0.15, color: '#d62728' },
        encoding: {
          x: { field: 'from', type: 'quantitative' },
          x2: { field: 'to' },
        },
      },
      {
        data: { values: stops },
        mark: { type: 'text', align: 'left', dy: -120, dx: 3, fontSize: 10 },
        encoding: { x: { field: 'from', type: 'quantitative' }, text: { field: 'node' } },
      },
      {
        data: { values: points },
        mark: { type: 'line', interpolate: 'step-after' },
        encoding: {
          x: { field: 'second', type: 'quantitative', title: 'seconds since the load began' },
          y: { field: 'orders', type: 'quantitative', title: 'orders per second' },
          color: { field: 'series', type: 'nominal', title: null },
        },
      },
    ],
  };
}
