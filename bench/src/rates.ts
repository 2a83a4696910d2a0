/** Events per second of `count` events over `ms` milliseconds (0 for an empty interval). */
export const perSecond = (count: number, ms: number): number => (ms > 0 ? (count * 1000) / ms : 0);

/**
 * The rate of the events whose time falls in [from, to), per second: for example the
 * orders whose completion was recorded inside a load step, after its warm-up.
 */
export function rateInWindow(times: readonly number[], from: number, to: number): number {
  return perSecond(times.filter((t) => t >= from && t < to).length, to - from);
}

/**
 * CPU used between two readings of a process's (or the machine's) busy time, as a
 * percentage of one core: 100 is one core fully busy, 200 both cores of this machine.
 */
export const cpuPercent = (busyMsBefore: number, busyMsAfter: number, wallMs: number): number =>
  wallMs > 0 ? (100 * Math.max(0, busyMsAfter - busyMsBefore)) / wallMs : 0;

/** One step of a rising-load run: what was accepted and what completed end to end. */
export interface StepRate {
  concurrency: number;
  acceptedPerSecond: number;
  completedPerSecond: number;
}

/** The step that completed the most orders per second; undefined for no steps. */
export function saturationOf<S extends StepRate>(steps: readonly S[]): S | undefined {
  return steps.reduce<S | undefined>(
    (best, step) =>
      best === undefined || step.completedPerSecond > best.completedPerSecond ? step : best,
    undefined,
  );
}

/**
 * The send times of an open-loop load at a fixed rate: request `i` is due `i / rate`
 * seconds after the start, so arrivals are evenly spaced and do not wait for answers.
 */
export function scheduleOf(rate: number, seconds: number): number[] {
  const count = Math.floor(rate * seconds);
  return Array.from({ length: count }, (_, i) => (i * 1000) / rate);
}
