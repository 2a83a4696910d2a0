import type { ChartSpec } from '@app/demo/charts';
import type { BenchResult } from './runner';
import { END_TO_END } from './timeline';

const frame = (title: string, subtitle: string): ChartSpec => ({
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: { text: title, subtitle, anchor: 'start', fontSize: 18, subtitleFontSize: 13 },
  background: 'white',
  padding: 16,
  config: {
    font: 'DejaVu Sans',
    view: { stroke: null },
    axis: { labelFontSize: 12, titleFontSize: 13, gridColor: '#e6e6e6' },
    legend: { labelFontSize: 12, orient: 'top', title: null, labelLimit: 400 },
    range: { category: ['#4c78a8', '#f58518', '#54a24b', '#e45756'] },
  },
});

/** Accepted and completed orders per second at each concurrency, per style. */
export function saturationChart(result: BenchResult): ChartSpec {
  const values = result.saturation.flatMap((step) => [
    {
      connections: step.concurrency,
      style: `${step.style} style`,
      measure: 'completed end to end',
      rate: Math.round(step.completedPerSecond),
    },
    {
      connections: step.concurrency,
      style: `${step.style} style`,
      measure: 'POSTs accepted',
      rate: Math.round(step.acceptedPerSecond),
    },
  ]);
  return {
    ...frame(
      'Saturation: orders per second at rising concurrency',
      `${result.machine.cpus} cores shared by broker, database, services and load generator; ` +
        'solid: completed end to end, dotted: POSTs accepted',
    ),
    width: 620,
    height: 320,
    data: { values },
    mark: { type: 'line', point: true, strokeWidth: 3 },
    encoding: {
      x: {
        field: 'connections',
        type: 'quantitative',
        scale: { type: 'log', base: 2 },
        axis: { values: [...new Set(result.saturation.map((step) => step.concurrency))] },
        title: 'connections of the load generator (log scale)',
      },
      y: { field: 'rate', type: 'quantitative', title: 'orders/s' },
      color: { field: 'style', type: 'nominal' },
      strokeDash: {
        field: 'measure',
        type: 'nominal',
        sort: ['completed end to end', 'POSTs accepted'],
        legend: null,
      },
      detail: { field: 'measure' },
    },
  };
}

/** Stage latencies (p50 and p99) of every latency run. */
export function latencyChart(result: BenchResult): ChartSpec {
  const values = result.latency
    .filter((run) => !run.skipped)
    .flatMap((run) =>
      run.stages.flatMap(({ stage, ms }) =>
        ms
          ? [
              { run: `${run.style} @ ${run.rate}/s`, stage, percentile: 'p50', ms: ms.p50 },
              { run: `${run.style} @ ${run.rate}/s`, stage, percentile: 'p99', ms: ms.p99 },
            ]
          : [],
      ),
    );
  const runs = [...new Set(values.map((v) => v.run))];
  return {
    ...frame(
      'Latency by stage at fixed rates',
      `p50 and p99, ms; the last bar of each run is ${END_TO_END}`,
    ),
    data: { values },
    facet: {
      field: 'run',
      type: 'nominal',
      sort: runs,
      title: null,
      header: { labelFontSize: 14, labelFontWeight: 'bold' },
    },
    columns: 2,
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 300,
      height: { step: 12 },
      mark: 'bar',
      encoding: {
        y: {
          field: 'stage',
          type: 'nominal',
          sort: { field: 'order', op: 'min' },
          title: null,
          axis: { labelLimit: 420 },
        },
        yOffset: { field: 'percentile', type: 'nominal' },
        x: { field: 'ms', type: 'quantitative', title: 'ms' },
        color: { field: 'percentile', type: 'nominal' },
      },
    },
  };
}

/**
 * Orders completed (solid) and POSTs accepted (dotted) per second during the overload step
 * and the drain after it, per style; the dashed rule marks the step's end.
 */
export function overloadChart(result: BenchResult): ChartSpec {
  const values = result.overload.flatMap((run) =>
    run.timeline.flatMap((bucket) => [
      {
        second: bucket.second,
        style: `${run.style} style (${run.rate}/s offered, sustained ${run.sustained}/s)`,
        measure: 'completed',
        rate: bucket.completed,
      },
      {
        second: bucket.second,
        style: `${run.style} style (${run.rate}/s offered, sustained ${run.sustained}/s)`,
        measure: 'POSTs accepted (202)',
        rate: bucket.accepted,
      },
    ]),
  );
  const stepEnd = Math.max(...result.overload.map((run) => run.seconds));
  return {
    ...frame(
      'Overload: twice the sustained rate, then the drain',
      'orders per second in 1 s buckets; solid: completed end to end, dotted: POSTs accepted; ' +
        'the dashed rule is the end of the step',
    ),
    width: 720,
    height: 320,
    layer: [
      {
        data: { values },
        mark: { type: 'line', strokeWidth: 2, interpolate: 'step-after' },
        encoding: {
          x: { field: 'second', type: 'quantitative', title: 's since the step began' },
          y: { field: 'rate', type: 'quantitative', title: 'orders/s' },
          color: { field: 'style', type: 'nominal' },
          strokeDash: {
            field: 'measure',
            type: 'nominal',
            sort: ['completed', 'POSTs accepted (202)'],
            legend: null,
          },
          detail: { field: 'measure' },
        },
      },
      {
        data: { values: [{ second: stepEnd }] },
        mark: { type: 'rule', strokeDash: [6, 4], color: '#888' },
        encoding: { x: { field: 'second', type: 'quantitative' } },
      },
    ],
  };
}
