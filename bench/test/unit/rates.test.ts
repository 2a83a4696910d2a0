import { cpuPercent, perSecond, rateInWindow, saturationOf, scheduleOf } from '../../src/rates';

describe('rates', () => {
  it('when 500 events happen in 2 s, then the rate is 250/s', () => {
    expect(perSecond(500, 2_000)).toBe(250);
    expect(perSecond(5, 0)).toBe(0);
  });

  it('when counting in a window, then only events inside [from, to) count', () => {
    const times = [999, 1_000, 1_500, 1_999, 2_000];
    expect(rateInWindow(times, 1_000, 2_000)).toBe(3);
  });

  it('when a process used 1.5 s of CPU in 1 s, then it used 150% of one core', () => {
    expect(cpuPercent(2_000, 3_500, 1_000)).toBe(150);
    expect(cpuPercent(3_500, 2_000, 1_000)).toBe(0);
  });

  it('when steps rise and fall, then saturation is the step that completed the most', () => {
    const steps = [
      { concurrency: 4, acceptedPerSecond: 100, completedPerSecond: 100 },
      { concurrency: 16, acceptedPerSecond: 400, completedPerSecond: 310 },
      { concurrency: 64, acceptedPerSecond: 600, completedPerSecond: 250 },
    ];
    expect(saturationOf(steps)?.concurrency).toBe(16);
    expect(saturationOf([])).toBeUndefined();
  });

  it('when pacing 4 per second for 1 s, then requests are due every 250 ms', () => {
    expect(scheduleOf(4, 1)).toEqual([0, 250, 500, 750]);
    expect(scheduleOf(300, 8)).toHaveLength(2_400);
  });
});
