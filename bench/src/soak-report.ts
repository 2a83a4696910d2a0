import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ChartSpec } from '@app/demo/charts';
import type { SoakResult, SoakSample } from './soak';

/** Four panels over time: orders/s, end-to-end p99, outbox and inbox sizes, RSS per service. */
export function soakChart(result: SoakResult): ChartSpec {
  const point = (sample: SoakSample, panel: string, series: string, value: number | undefined) =>
    value === undefined ? [] : [{ at: sample.at, panel, series, value }];
  const values = result.samples.flatMap((s) => [
    ...point(s, 'orders/s', 'placed', s.placedPerSecond),
    ...point(s, 'orders/s', 'finished', s.finishedPerSecond),
    ...point(s, 'end to end, ms', 'p99', s.endToEndP99Ms),
    ...point(s, 'end to end, ms', 'p50', s.endToEndP50Ms),
    ...s.tables.flatMap((t) =>
      point(
        s,
        'table size, MiB',
        `${t.service} ${t.table.replace('_messages', '')}`,
        t.bytes / 2 ** 20,
      ),
    ),
    ...Object.entries(s.rssMiB).flatMap(([service, mib]) => point(s, 'RSS, MiB', service, mib)),
  ]);
  const panels = ['orders/s', 'end to end, ms', 'table size, MiB', 'RSS, MiB'];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `Soak: ${result.options.rate} orders/s for ${Math.round(result.options.seconds / 60)} min, both styles`,
      subtitle: `retention ${Object.entries(result.options.retentionEnv)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}; autovacuum ${result.autovacuum}`,
      anchor: 'start',
      fontSize: 18,
      subtitleFontSize: 12,
    },
    background: 'white',
    padding: 16,
    config: {
      font: 'DejaVu Sans',
      view: { stroke: null },
      axis: { labelFontSize: 12, titleFontSize: 13, gridColor: '#e6e6e6' },
      legend: { labelFontSize: 11, title: null, labelLimit: 300 },
    },
    data: { values },
    facet: { row: { field: 'panel', type: 'nominal', sort: panels, title: null } },
    resolve: { scale: { y: 'independent', color: 'independent' } },
    spec: {
      width: 720,
      height: 160,
      mark: { type: 'line', point: false },
      encoding: {
        x: { field: 'at', type: 'quantitative', title: 'seconds since the load began' },
        y: { field: 'value', type: 'quantitative', title: null },
        color: { field: 'series', type: 'nominal' },
      },
    },
  };
}

/** Flatness at a glance: each measure in the first and the last quarter of the run. */
export function soakSummary(result: SoakResult): string {
  const { samples } = result;
  const quarter = Math.max(1, Math.floor(samples.length / 4));
  const first = samples.slice(1, quarter + 1);
  const last = samples.slice(-quarter);
  const mean = (list: SoakSample[], of: (s: SoakSample) => number | undefined): string => {
    const numbers = list.map(of).filter((v): v is number => v !== undefined);
    return numbers.length === 0
      ? '-'
      : (numbers.reduce((a, b) => a + b, 0) / numbers.length).toFixed(1);
  };
  const tableRows = (table: string) => (s: SoakSample) =>
    s.tables.filter((t) => t.table === table).reduce((sum, t) => sum + t.rows, 0);
  const tableMiB = (s: SoakSample) => s.tables.reduce((sum, t) => sum + t.bytes, 0) / 2 ** 20;
  const services = Object.keys(samples[0]?.rssMiB ?? {});
  const rows: [string, (s: SoakSample) => number | undefined][] = [
    ['placed orders/s', (s) => s.placedPerSecond],
    ['finished orders/s', (s) => s.finishedPerSecond],
    ['end-to-end p50, ms', (s) => s.endToEndP50Ms],
    ['end-to-end p99, ms', (s) => s.endToEndP99Ms],
    ['outbox rows (all services)', tableRows('outbox_messages')],
    ['inbox rows (all services)', tableRows('inbox_messages')],
    ['outbox + inbox size, MiB', tableMiB],
    ...services.map((service): [string, (s: SoakSample) => number | undefined] => [
      `RSS ${service}, MiB`,
      (s) => s.rssMiB[service as keyof SoakSample['rssMiB']],
    ]),
  ];
  const ledger = (['event', 'command'] as const)
    .map((style) => {
      const l = result.ledgers[style];
      return `| ${style} | ${result.placed[style]} | ${l.completed} | ${l.cancelled} | ${l.lost.length} | ${l.doubled.length} |`;
    })
    .join('\n');
  const removed = Object.entries(result.removed)
    .map(
      ([service, tables]) =>
        `${service}: ${Object.entries(tables)
          .map(([t, n]) => `${t} ${n}`)
          .join(', ')}`,
    )
    .join('; ');
  return [
    `# Soak ${result.startedAt}`,
    '',
    `${result.options.rate} orders/s (half per style) for ${result.options.seconds} s, a sample every ${result.options.sampleSeconds} s; ${result.open} orders open at the end; autovacuum ${result.autovacuum}.`,
    '',
    '| measure | first quarter (mean) | last quarter (mean) |',
    '| --- | --- | --- |',
    ...rows.map(([label, of]) => `| ${label} | ${mean(first, of)} | ${mean(last, of)} |`),
    '',
    '| style | placed | completed | cancelled | lost | doubled |',
    '| --- | --- | --- | --- | --- | --- |',
    ledger,
    '',
    `Rows removed by retention: ${removed}.`,
    '',
    '![soak](soak.png)',
  ].join('\n');
}

/** `reports/soak-2026-11-29T05-30-00`: sortable, and safe in every file system. */
export const soakFolderName = (startedAt: string): string =>
  `soak-${startedAt.slice(0, 19).replace(/:/g, '-')}`;

/** Writes results.json and summary.md; returns the folder. */
export async function writeSoakReport(root: string, result: SoakResult): Promise<string> {
  const folder = path.join(root, soakFolderName(result.startedAt));
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(path.join(folder, 'summary.md'), `${soakSummary(result)}\n`);
  return folder;
}
