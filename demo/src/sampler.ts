import { delay } from '@app/runtime';

/**
 * Calls `probe` every `intervalMs` (never two at once) and keeps what it returns with the
 * time since `origin`. A probe that throws (a broker blip, say) costs one sample, not the run.
 */
export class Sampler<T extends object> {
  readonly samples: (T & { t: number })[] = [];
  private running = false;
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly probe: () => Promise<T>,
    private readonly intervalMs = 100,
    readonly origin = Date.now(),
  ) {}

  start(): this {
    this.running = true;
    this.loop = this.run();
    return this;
  }

  /** Stops after taking one last sample, so the final state is in the series. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.running = false;
    await this.loop;
    await this.sample();
  }

  get latest(): (T & { t: number }) | undefined {
    return this.samples[this.samples.length - 1];
  }

  /** Milliseconds since the origin. */
  now(): number {
    return Date.now() - this.origin;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const started = Date.now();
      await this.sample();
      await delay(Math.max(0, this.intervalMs - (Date.now() - started)));
    }
  }

  private async sample(): Promise<void> {
    const t = this.now();
    try {
      this.samples.push({ ...(await this.probe()), t });
    } catch {
      // a missed sample; the next one follows
    }
  }
}
