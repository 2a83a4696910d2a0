/**
 * The sustained rate: the highest open-loop arrival rate whose orders keep completing as
 * fast as they arrive over a whole step, found by a short search from the closed-loop
 * saturation estimate.
 */

/** What the rule requires of a step to call the rate sustained. */
export const KEEPS_UP = {
  /** Completions per second in the step's second half, as a share of the arrival rate. */
  completedShare: 0.95,
  /** The backlog left at the step's end, in seconds of arrivals. */
  backlogSeconds: 1,
} as const;

/** The search: where it starts, how it moves, and the lowest rate it tries. */
export const SEARCH = { start: 0.8, up: 1.15, down: 0.85, minRate: 5 } as const;

/** What one open-loop step at a fixed rate showed. */
export interface StepOutcome {
  rate: number;
  seconds: number;
  /** POSTs that failed: any answer but 202, a 503 of the admission limit included. */
  failures: number;
  /** Orders completed in the step's second half. */
  completedInSecondHalf: number;
  /** Orders accepted in the step and not completed when it ended. */
  backlogAtEnd: number;
}

export interface Verdict {
  held: boolean;
  /** Why the rate did not hold; empty when it did. */
  reasons: string[];
}

/**
 * A rate holds when completions kept up in the step's second half (the first half may
 * still be filling the pipeline), the backlog at the end is at most about one second of
 * arrivals (it did not grow over the step), and no POST failed.
 */
export function keepsUp(step: StepOutcome): Verdict {
  const reasons: string[] = [];
  const completedPerSecond = step.completedInSecondHalf / (step.seconds / 2);
  if (completedPerSecond < KEEPS_UP.completedShare * step.rate) {
    reasons.push(
      `completed ${Math.round(completedPerSecond)}/s in the second half, below ` +
        `${Math.round(100 * KEEPS_UP.completedShare)}% of ${step.rate}/s`,
    );
  }
  if (step.backlogAtEnd > KEEPS_UP.backlogSeconds * step.rate) {
    reasons.push(`backlog of ${step.backlogAtEnd} at the end, above one second of arrivals`);
  }
  if (step.failures > 0) reasons.push(`${step.failures} POSTs failed`);
  return { held: reasons.length === 0, reasons };
}

/** A rate tried and whether it held. */
export interface Tried {
  rate: number;
  held: boolean;
}

/**
 * The next rate to try, or undefined when the search is over: start at 80% of the
 * estimate; while a rate holds, 15% more; once one fails after another held, stop; if the
 * first fails, 15% less until one holds, then up again while below the rate that failed.
 * At most `maxSteps` steps.
 */
export function nextRate(
  estimate: number,
  tried: readonly Tried[],
  maxSteps: number,
): number | undefined {
  if (tried.length >= maxSteps) return undefined;
  const last = tried.at(-1);
  if (last === undefined) return Math.max(SEARCH.minRate, Math.round(SEARCH.start * estimate));
  const highestHeld = sustainedOf(tried);
  if (!last.held && highestHeld !== undefined) return undefined;
  const next = Math.round(last.rate * (last.held ? SEARCH.up : SEARCH.down));
  const lowestFailed = Math.min(...tried.filter((t) => !t.held).map((t) => t.rate));
  if (next < SEARCH.minRate || next >= lowestFailed || tried.some((t) => t.rate === next)) {
    return undefined;
  }
  return next;
}

/** The highest rate that held; undefined when none did. */
export function sustainedOf(tried: readonly Tried[]): number | undefined {
  const held = tried.filter((t) => t.held).map((t) => t.rate);
  return held.length > 0 ? Math.max(...held) : undefined;
}
