/** A value sampled at `t` milliseconds after a scenario's phase began. */
export interface Point {
  t: number;
  value: number;
}

/**
 * Steady throughput (per second) of a counter that goes from 0 to `total`: measured
 * between the first samples at or above 10 % and 90 % of `total`, so that processes
 * still starting at the beginning and the last stragglers do not blur the rate.
 * Undefined when the samples never span that window.
 */
export function steadyRate(
  samples: Point[],
  total: number,
  window: [number, number] = [0.1, 0.9],
): number | undefined {
  const low = samples.find((sample) => sample.value >= total * window[0]);
  const high = samples.find((sample) => sample.value >= total * window[1]);
  if (!low || !high || high.t <= low.t) return undefined;
  return ((high.value - low.value) * 1000) / (high.t - low.t);
}

/** The sample with the highest value (the first, when several tie). */
export function peakOf(samples: Point[]): Point | undefined {
  return samples.reduce<Point | undefined>(
    (best, sample) => (best === undefined || sample.value > best.value ? sample : best),
    undefined,
  );
}

/** The time of the first sample at or above `value` (undefined when none is). */
export function firstReaching(samples: Point[], value: number): number | undefined {
  return samples.find((sample) => sample.value >= value)?.t;
}

/** The time of the first sample after the peak at which the value is back to `atMost`. */
export function drainedAt(samples: Point[], atMost = 0): number | undefined {
  const peak = peakOf(samples);
  if (!peak) return undefined;
  return samples.find((sample) => sample.t > peak.t && sample.value <= atMost)?.t;
}

export const perSecond = (count: number, ms: number): number => (ms > 0 ? (count * 1000) / ms : 0);

export const formatRate = (rate: number | undefined): string =>
  rate === undefined ? 'n/a' : `${rate >= 100 ? rate.toFixed(0) : rate.toFixed(1)}/s`;

export const formatSeconds = (ms: number | undefined): string =>
  ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`;

/**
 * The series shifted so that t = 0 is the last sample before the value first rose,
 * dropping the flat start (processes still starting), so runs line up on one chart.
 */
export function fromFirstRise(samples: Point[]): Point[] {
  const rise = samples.findIndex((sample) => sample.value > (samples[0]?.value ?? 0));
  if (rise < 0) return [];
  const from = Math.max(0, rise - 1);
  const origin = samples[from]?.t ?? 0;
  return samples.slice(from).map((sample) => ({ t: sample.t - origin, value: sample.value }));
}
