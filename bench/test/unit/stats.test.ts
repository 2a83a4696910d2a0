import { percentile, summarize } from '../../src/stats';

describe('percentile', () => {
  it('when the sample is empty, then there is no percentile', () => {
    expect(percentile([], 50)).toBeUndefined();
  });

  it('when asked for p50 of 1..10, then it is the nearest rank, 5', () => {
    const sorted = Array.from({ length: 10 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(5);
    expect(percentile(sorted, 95)).toBe(10);
    expect(percentile(sorted, 0)).toBe(1);
  });

  it('when asked for p99 of 1..1000, then it is 990', () => {
    const sorted = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentile(sorted, 99)).toBe(990);
    expect(percentile(sorted, 100)).toBe(1000);
  });
});

describe('summarize', () => {
  it('when values come in any order, then the mean, p50, p95, p99 and max are of the sorted sample', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(summarize(values)).toEqual({
      count: 100,
      mean: 50.5,
      p50: 50,
      p95: 95,
      p99: 99,
      max: 100,
    });
  });

  it('when a value is not a finite number, then it is left out', () => {
    expect(summarize([Number.NaN, 3, Number.POSITIVE_INFINITY, 1])).toEqual({
      count: 2,
      mean: 2,
      p50: 1,
      p95: 3,
      p99: 3,
      max: 3,
    });
  });

  it('when there are no values, then there is no summary', () => {
    expect(summarize([])).toBeUndefined();
  });
});
