import { locationOf, topFrames, type CpuProfile } from '../../src/profile';

const REPO = '/work/repo';

describe('the top frames of a CPU profile', () => {
  const frame = (id: number, functionName: string, url: string, lineNumber = 0) => ({
    id,
    callFrame: { functionName, url, lineNumber },
  });
  // Two nodes of `parse` (called from two places) add up; `(idle)` is not busy time.
  const profile: CpuProfile = {
    nodes: [
      frame(1, '(root)', ''),
      frame(2, '(idle)', ''),
      frame(3, 'parse', `file://${REPO}/node_modules/pg-protocol/dist/parser.js`, 39),
      frame(4, 'parse', `file://${REPO}/node_modules/pg-protocol/dist/parser.js`, 39),
      frame(5, 'placeOrder', `file://${REPO}/services/order/dist/domain/place-order.js`, 9),
      frame(6, '', 'node:internal/streams/readable', 100),
    ],
    samples: [2, 3, 4, 5, 3, 6, 2],
    timeDeltas: [5_000, 1_000, 2_000, 1_500, 1_000, 500, 5_000],
  };

  it('when one function appears under two callers, then its self time is added up and ranked first', () => {
    const summary = topFrames(profile, REPO);
    expect(summary.busyMs).toBe(6);
    expect(summary.idleMs).toBe(10);
    expect(summary.frames).toEqual([
      { functionName: 'parse', location: 'pg-protocol/dist/parser.js:40', selfMs: 4, share: 4 / 6 },
      {
        functionName: 'placeOrder',
        location: 'services/order/dist/domain/place-order.js:10',
        selfMs: 1.5,
        share: 1.5 / 6,
      },
      {
        functionName: '(anonymous)',
        location: 'node:internal/streams/readable:101',
        selfMs: 0.5,
        share: 0.5 / 6,
      },
    ]);
  });

  it('when fewer frames are asked for, then only the busiest are listed', () => {
    expect(topFrames(profile, REPO, 1).frames.map((f) => f.functionName)).toEqual(['parse']);
  });

  it('when naming where code is, then the repository prefix and node_modules are cut off', () => {
    expect(locationOf(`file://${REPO}/node_modules/@scope/pkg/index.js`, 0, REPO)).toBe(
      '@scope/pkg/index.js:1',
    );
    expect(locationOf(`${REPO}/shared/store/src/outbox.ts`, 11, REPO)).toBe(
      'shared/store/src/outbox.ts:12',
    );
    expect(locationOf('file:///elsewhere/x.js', 0, REPO)).toBe('/elsewhere/x.js:1');
    expect(locationOf('', -1, REPO)).toBe('(native or V8)');
  });
});
