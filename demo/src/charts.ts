import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FontMetrics } from './font-metrics';
import type { Point } from './rates';

/** A Vega-Lite specification (kept loose here: it is built by the functions below). */
export type ChartSpec = Record<string, unknown>;

const FONT = 'DejaVu Sans';

interface TextItem {
  text?: unknown;
  fontSize?: number;
  fontWeight?: string | number;
}
const WIDTH = 760;
const HEIGHT = 360;
const COLORS = ['#4c78a8', '#f58518', '#54a24b', '#e45756'];

/** Shared look: large type for a slide, white background, no chart border. */
function frame(title: string, subtitle: string): ChartSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle, anchor: 'start', fontSize: 20, subtitleFontSize: 14 },
    background: 'white',
    padding: 16,
    config: {
      font: FONT,
      view: { stroke: null },
      axis: { labelFontSize: 13, titleFontSize: 14, gridColor: '#e6e6e6' },
      legend: { labelFontSize: 13, titleFontSize: 13, orient: 'top', title: null, labelLimit: 400 },
      range: { category: COLORS },
    },
  };
}

const seconds = (t: number): number => Math.round(t / 100) / 10;

/**
 * Buffering: orders placed, invoices issued and the invoicing queue's depth over time.
 * The gap between the first two lines is the queue.
 */
export function bufferingChart(
  samples: { t: number; depth: number; placed: number; invoiced: number }[],
  queue: string,
): ChartSpec {
  const series = [`orders placed`, `invoices issued`, `waiting in ${queue}`];
  return {
    ...frame(
      `Buffering: ${Math.max(0, ...samples.map((s) => s.placed))} orders in a spike, Invoicing slow`,
      'The queue takes the spike at once and Invoicing works it off at its own pace: nothing is lost.',
    ),
    width: WIDTH,
    height: HEIGHT,
    data: {
      values: samples.flatMap((s) => [
        { seconds: seconds(s.t), series: series[0], count: s.placed },
        { seconds: seconds(s.t), series: series[1], count: s.invoiced },
        { seconds: seconds(s.t), series: series[2], count: s.depth },
      ]),
    },
    mark: { type: 'line', strokeWidth: 3, interpolate: 'monotone' },
    encoding: {
      x: { field: 'seconds', type: 'quantitative', title: 'seconds since the spike began' },
      y: { field: 'count', type: 'quantitative', title: 'messages / orders' },
      color: { field: 'series', type: 'nominal', sort: series },
      strokeDash: {
        field: 'series',
        type: 'nominal',
        sort: series,
        scale: {
          range: [
            [1, 0],
            [1, 0],
            [6, 4],
          ],
        },
      },
    },
  };
}

/**
 * Guaranteed delivery: the shipping queue's depth and the shipments made, with the
 * moments Shipping was stopped and started marked.
 */
export function deliveryChart(
  samples: { t: number; depth: number; shipped: number }[],
  marks: { t: number; label: string }[],
  queue: string,
): ChartSpec {
  const series = [`waiting in ${queue}`, 'orders shipped'];
  // Headroom above the lines for the labels of the marks.
  const top = Math.ceil(Math.max(1, ...samples.map((s) => Math.max(s.depth, s.shipped))) * 1.2);
  return {
    ...frame(
      'Guaranteed delivery: Shipping is down while orders arrive',
      'The queue keeps every message until Shipping is back; then each order is shipped exactly once.',
    ),
    width: WIDTH,
    height: HEIGHT,
    layer: [
      {
        data: {
          values: samples.flatMap((s) => [
            { seconds: seconds(s.t), series: series[0], count: s.depth },
            { seconds: seconds(s.t), series: series[1], count: s.shipped },
          ]),
        },
        mark: { type: 'line', strokeWidth: 3 },
        encoding: {
          x: {
            field: 'seconds',
            type: 'quantitative',
            title: 'seconds since Shipping was stopped',
          },
          y: {
            field: 'count',
            type: 'quantitative',
            title: 'messages / orders',
            scale: { domain: [0, top] },
          },
          color: { field: 'series', type: 'nominal', sort: series },
        },
      },
      {
        data: { values: marks.map((m) => ({ seconds: seconds(m.t), label: m.label })) },
        layer: [
          {
            mark: { type: 'rule', strokeDash: [4, 4], color: '#888', strokeWidth: 1.5 },
            encoding: { x: { field: 'seconds', type: 'quantitative' } },
          },
          {
            mark: {
              type: 'text',
              align: 'left',
              baseline: 'top',
              dx: 6,
              y: 4,
              fontSize: 14,
              color: '#444',
            },
            encoding: {
              x: { field: 'seconds', type: 'quantitative' },
              text: { field: 'label' },
            },
          },
        ],
      },
    ],
  };
}

/** Scale: the backlog worked off by each number of instances, and their throughput side by side. */
export function scaleChart(
  runs: { label: string; processed: Point[]; rate: number | undefined }[],
  total: number,
): ChartSpec {
  const labels = runs.map((run) => run.label);
  return {
    ...frame(
      `Scale: a backlog of ${total} orders, Invoicing instances competing on one queue`,
      'More instances consuming the same queue work the backlog off faster.',
    ),
    hconcat: [
      {
        width: 460,
        height: HEIGHT,
        title: { text: 'invoices issued', fontSize: 15 },
        data: {
          values: runs.flatMap((run) =>
            run.processed.map((p) => ({ seconds: seconds(p.t), run: run.label, count: p.value })),
          ),
        },
        mark: { type: 'line', strokeWidth: 3 },
        encoding: {
          x: {
            field: 'seconds',
            type: 'quantitative',
            title: 'seconds since the consumers started',
          },
          y: {
            field: 'count',
            type: 'quantitative',
            title: 'invoices',
            scale: { domain: [0, total] },
          },
          color: { field: 'run', type: 'nominal', sort: labels },
        },
      },
      {
        width: 240,
        height: HEIGHT,
        title: { text: 'throughput (orders/s)', fontSize: 15 },
        data: {
          values: runs.map((run) => ({
            run: run.label,
            rate: Math.round((run.rate ?? 0) * 10) / 10,
          })),
        },
        layer: [
          {
            mark: { type: 'bar', width: { band: 0.6 } },
            encoding: {
              x: {
                field: 'run',
                type: 'nominal',
                sort: labels,
                title: null,
                axis: { labelAngle: 0 },
              },
              y: { field: 'rate', type: 'quantitative', title: 'orders per second' },
              color: { field: 'run', type: 'nominal', sort: labels },
            },
          },
          {
            mark: { type: 'text', dy: -10, fontSize: 16, fontWeight: 'bold' },
            encoding: {
              x: { field: 'run', type: 'nominal', sort: labels },
              y: { field: 'rate', type: 'quantitative' },
              text: { field: 'rate', type: 'quantitative', format: '.0f' },
            },
          },
        ],
      },
    ],
  };
}

/**
 * Renders a spec to `<file>.svg` and `<file>.png` in `folder` and returns their names.
 * Vega-Lite compiles it, a headless Vega view draws the SVG, resvg turns that into a PNG
 * at twice the size, with a bundled font so the picture is the same on every machine.
 */
export async function renderChart(
  spec: ChartSpec,
  folder: string,
  file: string,
): Promise<string[]> {
  // Both are ES modules with top-level await: `require` cannot load them, `import()` can.
  const vega = await import('vega');
  const vegaLite = await import('vega-lite');
  const { Resvg } = await import('@resvg/resvg-js');
  const fonts = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  const regular = FontMetrics.fromFile(path.join(fonts, 'DejaVuSans.ttf'));
  const bold = FontMetrics.fromFile(path.join(fonts, 'DejaVuSans-Bold.ttf'));
  // Lay out with the real widths of the font the PNG is drawn in (Vega allows replacing it).
  const { textMetrics } = vega as unknown as {
    textMetrics: { width: (item: TextItem, text?: unknown) => number };
  };
  textMetrics.width = (item, text) => {
    const weight = item.fontWeight;
    const metrics = weight === 'bold' || Number(weight) >= 600 ? bold : regular;
    return metrics.width(String(text ?? item.text ?? ''), item.fontSize ?? 11);
  };
  const compiled = vegaLite.compile(spec as unknown as Parameters<typeof vegaLite.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: 2 },
    font: {
      loadSystemFonts: false,
      fontFiles: ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((name) => path.join(fonts, name)),
      defaultFontFamily: FONT,
    },
  })
    .render()
    .asPng();
  await writeFile(path.join(folder, `${file}.svg`), svg);
  await writeFile(path.join(folder, `${file}.png`), png);
  return [`${file}.png`, `${file}.svg`];
}
