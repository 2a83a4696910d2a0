import path from 'node:path';
import { REPO_ROOT } from '@app/testing';
import { FAULT_KINDS } from './faults';
import { isClean, ledgerFindings, problems, runChaos, type ChaosResult } from './chaos';
import { STYLES } from './load';
import { SeededRandom } from './random';
import { chaosSummary, writeChaosReport } from './report';

/**
 * The chaos run (docs/chaos.md). In `make test` its short form: 100 orders and a handful of
 * faults. `make chaos` runs this file with CHAOS_ORDERS=1000 and CHAOS_REPORTS_DIR=reports.
 * CHAOS_SEED replays a run's schedule; the seed is in the test's name and the summary.
 */
const config = {
  orders: positiveInt('CHAOS_ORDERS', 100),
  // Slow enough that the faults fall while orders are still being placed.
  rate: positiveInt('CHAOS_RATE', 4),
  minFaults: positiveInt('CHAOS_MIN_FAULTS', 4),
  reportsDir: process.env.CHAOS_REPORTS_DIR
    ? path.resolve(REPO_ROOT, process.env.CHAOS_REPORTS_DIR)
    : undefined,
  progress: process.env.CHAOS_PROGRESS === '1',
};
const random = SeededRandom.fromEnv(process.env.CHAOS_SEED);
const SETTLE_TIMEOUT_MS = 180_000;
/** A bound for a broken run only: start-up, the load twice over, the settle wait, teardown. */
const RUN_TIMEOUT_MS = 120_000 + (2_000 * config.orders) / config.rate + 2 * SETTLE_TIMEOUT_MS;

describe(`chaos: ${config.orders} orders in both styles while services are killed, broker connections closed and Postgres cut (seed ${random.seed})`, () => {
  let result: ChaosResult;

  beforeAll(async () => {
    const say = (line: string): void => void process.stdout.write(`${line}\n`);
    if (config.progress) say(`chaos: seed ${random.seed}, ${config.orders} orders`);
    result = await runChaos({
      orders: config.orders,
      rate: config.rate,
      minFaults: config.minFaults,
      random,
      settleTimeoutMs: SETTLE_TIMEOUT_MS,
      reportsDir: config.reportsDir,
      say: config.progress ? say : undefined,
    });
    const summary = chaosSummary(result);
    const written = config.reportsDir ? await writeChaosReport(config.reportsDir, result) : [];
    const where = written.map((file) => path.relative(process.cwd(), file)).join(', ');
    if (config.progress) say(`\n${summary}${where ? `\n\nReport: ${where}` : ''}\n`);
    else console.log(summary);
  }, RUN_TIMEOUT_MS);

  test('when every fault kind has struck, then each target came back and the run ended clean', () => {
    for (const kind of FAULT_KINDS) {
      expect({ kind, injected: result.timeline.some((f) => f.kind === kind) }).toEqual({
        kind,
        injected: true,
      });
    }
    expect(result.timeline.filter((fault) => fault.error)).toEqual([]);
    expect(problems(result)).toEqual([]);
    expect(isClean(result)).toBe(true);
  });

  test('when POSTs fail during the faults, then each order is accepted once (retries replay under the same Idempotency-Key)', () => {
    expect(result.load.refused).toEqual([]);
    expect(result.load.accepted).toBe(config.orders);
    expect(result.duplicateOrders).toEqual([]);
  });

  test.each(STYLES)(
    'when the faults are over (%s style), then the ledger counts every order terminal, none lost, none doubled',
    (style) => {
      const ledger = result.ledgers[style];
      expect(result.open).toBe(0);
      expect(result.idle).toBe(true);
      expect(ledger.lost).toEqual([]);
      expect(ledger.doubled).toEqual([]);
      expect(ledgerFindings(ledger)).toEqual([]);
      expect(ledger.completed + ledger.cancelled).toBe(ledger.orders);
      // Styles alternate, the event style first.
      expect(ledger.orders).toBe(Math[style === 'event' ? 'ceil' : 'floor'](config.orders / 2));
      expect(result.unexpected).toEqual([]);
      expect(result.deadLetters).toEqual({});
    },
  );
});

function positiveInt(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new Error(`${name} must be a positive integer, not ${JSON.stringify(value)}`);
  }
  return n;
}
