import { randomInt } from 'node:crypto';

/**
 * A seeded pseudo-random source (mulberry32): the same seed gives the same fault schedule
 * and the same orders, so a failed chaos run is replayed with `CHAOS_SEED=<seed>`. Only the
 * schedule is reproducible, not the timing of what the services do meanwhile.
 */
export class SeededRandom {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** The seed of `CHAOS_SEED` when set (an integer), else a fresh one. */
  static fromEnv(value: string | undefined): SeededRandom {
    if (value === undefined || value.trim() === '') return new SeededRandom(randomInt(2 ** 31));
    const seed = Number(value);
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new Error(`CHAOS_SEED must be a non-negative integer, not ${JSON.stringify(value)}`);
    }
    return new SeededRandom(seed);
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** The items in a random order (a copy). */
  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i -= 1) {
      const j = Math.floor(this.next() * (i + 1));
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  }
}
