import type { NamedDatabase } from '@app/testing';

/** Statuses an order does not leave (services/order/src/domain/order.ts). */
export const TERMINAL_STATUSES = ['COMPLETED', 'CANCELLED', 'FAILED'] as const;

/** How many of `times` (epoch ms) fall in each second from `from` until `to` (the last may be partial). */
export function perSecondBuckets(times: readonly number[], from: number, to: number): number[] {
  const buckets = Array.from({ length: Math.max(0, Math.ceil((to - from) / 1000)) }, () => 0);
  for (const t of times) {
    if (t < from || t >= to) continue;
    const i = Math.floor((t - from) / 1000);
    buckets[i] = (buckets[i] ?? 0) + 1;
  }
  return buckets;
}

/**
 * Counts the orders placed since `since` and not yet in a terminal status every
 * `intervalMs`, until `stop()`, which answers the samples taken.
 */
export function sampleBacklog(
  order: NamedDatabase,
  since: number,
  intervalMs: number,
): { stop: () => Promise<{ at: number; open: number }[]> } {
  const samples: { at: number; open: number }[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const at = Date.now();
      const [row] = await order.query<{ open: number }>(
        `SELECT count(*)::int AS open FROM orders
          WHERE created_at >= to_timestamp($1::float8 / 1000) AND status <> ALL($2::text[])`,
        [since, TERMINAL_STATUSES],
      );
      samples.push({ at, open: row?.open ?? 0 });
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, at + intervalMs - Date.now())),
      );
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return samples;
    },
  };
}
