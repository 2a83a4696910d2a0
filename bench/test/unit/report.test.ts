import { performancePage, resultsFolderName, withReport } from '../../src/report';
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
  it('when nothing is set, then both styles, rising concurrency and two rates are measured', () => {
    const config = readBenchConfig({});
    expect(config.BENCH_STYLES).toEqual(['event', 'command']);
    expect(config.BENCH_RATES).toEqual([100, 200, 300]);
    expect(config.BENCH_SERVICE_ENV).toEqual({});
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
