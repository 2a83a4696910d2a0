import {
  drainedAt,
  formatRate,
  fromFirstRise,
  peakOf,
  perSecond,
  steadyRate,
} from '../../src/rates';

const series = (values: number[], stepMs = 100) =>
  values.map((value, i) => ({ t: i * stepMs, value }));

describe('rates', () => {
  test('when a counter rises steadily, then the steady rate is measured between 10 % and 90 % of the total', () => {
    // 0, 10, 20, ... 100 every 100 ms: 100 per second
    const samples = series([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(steadyRate(samples, 100)).toBeCloseTo(100);
  });

  test('when a slow start precedes the steady part, then it does not lower the rate', () => {
    const samples = series([0, 0, 0, 0, 0, 10, 30, 50, 70, 90, 100]);
    expect(steadyRate(samples, 100)).toBeCloseTo(200);
  });

  test('when the counter never reaches 90 %, then there is no rate', () => {
    expect(steadyRate(series([0, 10, 50]), 100)).toBeUndefined();
  });

  test('when a queue fills and drains, then the peak and the time it is empty again are found', () => {
    const depths = series([0, 5, 40, 30, 10, 0, 0]);
    expect(peakOf(depths)).toEqual({ t: 200, value: 40 });
    expect(drainedAt(depths)).toBe(500);
    expect(drainedAt(series([0, 5, 40, 30]))).toBeUndefined();
  });

  test('when a series starts flat, then it is shifted to the last sample before it rose', () => {
    expect(fromFirstRise(series([0, 0, 0, 5, 9]))).toEqual([
      { t: 0, value: 0 },
      { t: 100, value: 5 },
      { t: 200, value: 9 },
    ]);
    expect(fromFirstRise(series([0, 0]))).toEqual([]);
  });

  test('when numbers are shown, then rates read naturally', () => {
    expect(perSecond(300, 1_500)).toBe(200);
    expect(formatRate(212.4)).toBe('212/s');
    expect(formatRate(42.25)).toBe('42.3/s');
    expect(formatRate(undefined)).toBe('n/a');
  });
});
