import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { scheduleOf } from './rates';

/** An order placed by the paced load: its id and when (epoch ms) it was sent and answered. */
export interface PlacedOrder {
  id: string;
  sentAt: number;
  answeredAt: number;
}

export interface PacedRun {
  orders: PlacedOrder[];
  /** Answers other than 202, and requests that failed outright. */
  failures: number;
  /** Of the failures, the 503s of Order's admission limit, and how many said Retry-After. */
  refusals: { count: number; withRetryAfter: number };
  /** What the failures were: `HTTP 500`, `ECONNRESET`, ... with their counts. */
  failureReasons: Record<string, number>;
  /** From the time each request was due to its answer (so a late send counts as waiting). */
  postLatencyMs: number[];
}

const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Open-loop load at a fixed rate: `POST /orders` every 1/rate seconds, evenly spaced and
 * without waiting for earlier answers, for `seconds`. Latency is measured from when each
 * request was due, so a generator falling behind cannot hide waiting (coordinated omission).
 * autocannon's own rate limit is a per-second budget per connection, which sends each
 * second's requests in a burst; that would measure bursts, not a rate.
 */
export async function placeAtRate(
  orderUrl: string,
  body: string,
  rate: number,
  seconds: number,
): Promise<PacedRun> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const target = new URL('/orders', orderUrl);
  const schedule = scheduleOf(rate, seconds);
  const orders: PlacedOrder[] = [];
  const postLatencyMs: number[] = [];
  let failures = 0;
  const refusals = { count: 0, withRetryAfter: 0 };
  const failureReasons: Record<string, number> = {};
  const fail = (reason: string): void => {
    failures += 1;
    failureReasons[reason] = (failureReasons[reason] ?? 0) + 1;
  };
  const inFlight: Promise<void>[] = [];
  const started = performance.now();
  const send = (due: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const request = http.request(
        target,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
          timeout: REQUEST_TIMEOUT_MS,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const answered = performance.now();
            const id = /"id":"([0-9a-f-]{36})"/.exec(Buffer.concat(chunks).toString('utf8'))?.[1];
            if (response.statusCode === 202 && id) {
              orders.push({
                id,
                sentAt: performance.timeOrigin + started + due,
                answeredAt: performance.timeOrigin + answered,
              });
              postLatencyMs.push(answered - started - due);
            } else {
              fail(`HTTP ${response.statusCode ?? '?'}`);
              if (response.statusCode === 503) {
                refusals.count += 1;
                if (response.headers['retry-after'] !== undefined) refusals.withRetryAfter += 1;
              }
            }
            resolve();
          });
          response.on('error', (err: Error & { code?: string }) => {
            fail(err.code ?? err.message);
            resolve();
          });
        },
      );
      request.on('timeout', () => request.destroy(new Error('timed out')));
      request.on('error', (err: Error & { code?: string }) => {
        fail(err.code ?? err.message);
        resolve();
      });
      request.end(body);
    });
  let next = 0;
  while (next < schedule.length) {
    const now = performance.now() - started;
    while (next < schedule.length && (schedule[next] as number) <= now) {
      inFlight.push(send(schedule[next] as number));
      next += 1;
    }
    if (next < schedule.length) await sleep(Math.max(0, (schedule[next] as number) - now));
  }
  await Promise.all(inFlight);
  agent.destroy();
  return { orders, failures, refusals, failureReasons, postLatencyMs };
}

export interface ClosedLoopRun {
  accepted: number;
  failures: number;
  seconds: number;
  postLatencyMs: { p50: number; p99: number; max: number };
}

/**
 * Closed-loop load with autocannon: `connections` clients each sending `POST /orders`
 * as soon as the previous answer arrived, for `seconds`.
 */
export async function placeWithConcurrency(
  orderUrl: string,
  body: string,
  connections: number,
  seconds: number,
): Promise<ClosedLoopRun> {
  const result = await autocannon({
    url: new URL('/orders', orderUrl).toString(),
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration: seconds,
    timeout: REQUEST_TIMEOUT_MS / 1000,
  });
  return {
    accepted: result['2xx'],
    failures: result.non2xx + result.errors + result.timeouts,
    seconds: result.duration,
    postLatencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
  };
}
