import { keepsUp, nextRate, sustainedOf, type StepOutcome } from '../../src/sustain';

describe('the keeps-up rule of a sustained step', () => {
  const step = (change: Partial<StepOutcome> = {}): StepOutcome => ({
    rate: 200,
    seconds: 20,
    failures: 0,
    completedInSecondHalf: 2_000,
    backlogAtEnd: 10,
    ...change,
  });

  it('when completions match arrivals and the backlog stays small, then the rate holds', () => {
    expect(keepsUp(step())).toEqual({ held: true, reasons: [] });
  });

  it('when the second half completed just 95% of the rate, then it still holds', () => {
    expect(keepsUp(step({ completedInSecondHalf: 1_900 })).held).toBe(true);
  });

  it('when the second half completed less than 95% of the rate, then it does not hold', () => {
    const verdict = keepsUp(step({ completedInSecondHalf: 1_899 }));
    expect(verdict.held).toBe(false);
    expect(verdict.reasons).toEqual(['completed 190/s in the second half, below 95% of 200/s']);
  });

  it('when the backlog at the end is more than one second of arrivals, then it does not hold', () => {
    expect(keepsUp(step({ backlogAtEnd: 200 })).held).toBe(true);
    expect(keepsUp(step({ backlogAtEnd: 201 })).reasons).toEqual([
      'backlog of 201 at the end, above one second of arrivals',
    ]);
  });

  it('when a single POST failed (a 503 of the admission limit, say), then it does not hold', () => {
    expect(keepsUp(step({ failures: 1 })).reasons).toEqual(['1 POSTs failed']);
  });
});

describe('the search for the sustained rate', () => {
  it('when nothing was tried, then it starts at 80% of the estimate', () => {
    expect(nextRate(200, [], 4)).toBe(160);
  });

  it('when the last rate held, then it tries 15% more', () => {
    expect(nextRate(200, [{ rate: 160, held: true }], 4)).toBe(184);
  });

  it('when a rate fails after one held, then the search ends at the last that held', () => {
    const tried = [
      { rate: 160, held: true },
      { rate: 184, held: true },
      { rate: 212, held: false },
    ];
    expect(nextRate(200, tried, 6)).toBeUndefined();
    expect(sustainedOf(tried)).toBe(184);
  });

  it('when the first rate fails, then it tries 15% less, then up again only below the rate that failed', () => {
    const failed = { rate: 160, held: false };
    expect(nextRate(200, [failed], 6)).toBe(136);
    expect(nextRate(200, [failed, { rate: 136, held: true }], 6)).toBe(156);
    const tried = [failed, { rate: 136, held: true }, { rate: 156, held: true }];
    expect(nextRate(200, tried, 6)).toBeUndefined();
    expect(sustainedOf(tried)).toBe(156);
  });

  it('when the steps are used up, then it stops even while rates hold', () => {
    expect(nextRate(200, [{ rate: 160, held: true }], 1)).toBeUndefined();
  });

  it('when no rate held, then there is no sustained rate', () => {
    expect(sustainedOf([{ rate: 160, held: false }])).toBeUndefined();
  });

  it('when the rate would fall below the lowest worth trying, then it stops', () => {
    expect(nextRate(5, [{ rate: 5, held: false }], 4)).toBeUndefined();
  });
});
