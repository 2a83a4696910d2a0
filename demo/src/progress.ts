/** A text progress bar: `[#######.......]`. */
export function bar(done: number, total: number, width = 24): string {
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export interface ProgressOptions {
  /** Rewrite one line in place (a terminal) or print lines now and then (CI logs). */
  live: boolean;
  /** Without a terminal, the least time between two printed lines. */
  intervalMs?: number;
  now?: () => number;
  /** The terminal's width: a live line longer than that would wrap and not be rewritten. */
  columns?: () => number | undefined;
}

/**
 * Live progress under the scenario text: on a terminal one line rewritten in place; in a
 * log (CI) a plain line at most every `intervalMs`, so the log shows movement, not noise.
 */
export class Progress {
  private current: string | undefined;
  private lastPrinted = -Infinity;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly write: (text: string) => void,
    private readonly options: ProgressOptions,
  ) {
    this.intervalMs = options.intervalMs ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  update(line: string): void {
    if (this.options.live) {
      const width = this.options.columns?.();
      this.current = width && line.length >= width ? `${line.slice(0, width - 2)}…` : line;
      this.write(`\r\x1b[2K${this.current}`);
      return;
    }
    if (line === this.current) return;
    this.current = line;
    const now = this.now();
    if (now - this.lastPrinted >= this.intervalMs) {
      this.lastPrinted = now;
      this.write(`  .. ${line}\n`);
    }
  }

  /** Ends the live line (printing `line` as its final state, when given). */
  done(line?: string): void {
    if (this.options.live) {
      if (line !== undefined) this.write(`\r\x1b[2K${line}\n`);
      else if (this.current !== undefined) this.write('\n');
    } else if (line !== undefined) {
      this.write(`  .. ${line}\n`);
    }
    this.current = undefined;
    this.lastPrinted = -Infinity;
  }

  /** Prints a whole line without breaking the live one. */
  say(line: string): void {
    if (this.options.live && this.current !== undefined) {
      this.write(`\r\x1b[2K${line}\n${this.current}`);
    } else {
      this.write(`${line}\n`);
    }
  }
}
