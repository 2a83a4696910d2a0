import { paymentTable, performancePage, resultsFolderName, withReport } from '../../src/report';
import type { LatencyRun } from '../../src/runner';
import { AFTER_PAYMENT, END_TO_END, PAYMENT_STEP } from '../../src/timeline';
import { readBenchConfig } from '../../src/config';

describe('performance page block', () => {
  it('when the page has the bench markers, then only the text between them is replaced', () => {
    const page = 'intro\n<!-- bench:start -->\nold table\n<!-- bench:end -->\nrest\n';
    expect(withReport(page, 'new table')).toBe(
      'intro\n<!-- bench:start -->\n\nnew table\n\n<!-- bench:end -->\nrest\n',
    );
  });

  it('when the markers are missing, then it refuses', () => {
    expect(() => withReport('no markers', 'table')).toThrow(/bench:start/);
  });

  it('when there is no performance page yet, then one is made with the report between the markers', () => {
    expect(performancePage(undefined, 'new table')).toBe(
      '# Performance\n\n## Latest run\n\n<!-- bench:start -->\n\nnew table\n\n<!-- bench:end -->\n',
    );
  });

  it('when naming the results folder, then it sorts by time and has no colons', () => {
    expect(resultsFolderName('2026-05-01T12:30:05.123Z')).toBe('bench-2026-05-01T12-30-05');
  });
});

describe('bench configuration', () => {
  it('when nothing is set, then both styles are measured, with latency at shares of the sustained rate', () => {
    const config = readBenchConfig({});
    expect(config.BENCH_STYLES).toEqual(['event', 'command']);
    expect(config.BENCH_RATES).toBeUndefined();
    expect(config.BENCH_SUSTAIN_SECONDS).toBe(20);
    expect(config.BENCH_OVERLOAD_SECONDS).toBe(30);
    expect(config.BENCH_SERVICE_ENV).toEqual({});
  });

  it('when BENCH_RATES is set, then latency is measured at those rates instead', () => {
    expect(readBenchConfig({ BENCH_RATES: '100, 200' }).BENCH_RATES).toEqual([100, 200]);
  });

  it('when service settings are given, then they become environment pairs', () => {
    expect(
      readBenchConfig({ BENCH_SERVICE_ENV: 'PREFETCH=16,DB_POOL_SIZE=20' }).BENCH_SERVICE_ENV,
    ).toEqual({
      PREFETCH: '16',
      DB_POOL_SIZE: '20',
    });
  });

  it('when a list is malformed, then the configuration is refused', () => {
    expect(() => readBenchConfig({ BENCH_RATES: '100,fast' })).toThrow(/BENCH_RATES/);
    expect(() => readBenchConfig({ BENCH_STYLES: 'event,rpc' })).toThrow(/BENCH_STYLES/);
  });
});

describe('the Payment hop per style', () => {
  const ms = (p50: number, mean = p50) => ({
    count: 10,
    mean,
    p50,
    p95: p50,
    p99: p50 * 2,
    max: p50 * 3,
  });
  const run = (
    style: 'event' | 'command',
    payment: number,
    after: number,
    e2e: number,
  ): LatencyRun => ({
    style,
    rate: 100,
    seconds: 6,
    placed: 600,
    failures: 0,
    failureReasons: {},
    completed: 600,
    open: 0,
    stages: [
      { stage: PAYMENT_STEP, ms: ms(payment, payment + 1) },
      { stage: AFTER_PAYMENT, ms: ms(after) },
      { stage: END_TO_END, ms: ms(e2e) },
    ],
  });

  it('when both styles ran, then each has a row: the payment step, what follows it, end to end and its share', () => {
    const table = paymentTable([
      run('event', 4, 3, 12),
      run('command', 5, 8, 16),
      { ...run('event', 1, 1, 1), rate: 300, skipped: 'above saturation', stages: [] },
    ]);
    expect(table.rows).toEqual([
      ['event', '100/s', '4.0', '5.0', '8.0', '3.0', '12', '33%'],
      ['command', '100/s', '5.0', '6.0', '10', '8.0', '16', '31%'],
    ]);
    expect(table.header).toHaveLength(8);
  });
});
