import { perSecondBuckets } from '../../src/overload';

describe('completions per second of the overload step', () => {
  it('when events fall across 2.5 s, then each whole second has its count and the part-second its own', () => {
    const from = 10_000;
    const times = [9_999, 10_000, 10_999, 11_000, 11_500, 12_400, 12_500];
    expect(perSecondBuckets(times, from, 12_500)).toEqual([2, 2, 1]);
  });

  it('when nothing happened, then every second counts zero', () => {
    expect(perSecondBuckets([], 0, 3_000)).toEqual([0, 0, 0]);
  });
});
