import { Progress, bar } from '../../src/progress';

describe('progress', () => {
  test('when a bar is drawn, then it is filled in proportion and clamped', () => {
    expect(bar(5, 10, 10)).toBe('[#####.....]');
    expect(bar(20, 10, 4)).toBe('[####]');
    expect(bar(0, 0, 4)).toBe('[....]');
  });

  test('when on a terminal, then every update rewrites the one line in place', () => {
    const out: string[] = [];
    const progress = new Progress((text) => out.push(text), { live: true });
    progress.update('1/3');
    progress.update('2/3');
    progress.done('3/3 done');
    expect(out).toEqual(['\r\x1b[2K1/3', '\r\x1b[2K2/3', '\r\x1b[2K3/3 done\n']);
  });

  test('when on a terminal, then a message is printed above the live line, which is redrawn', () => {
    const out: string[] = [];
    const progress = new Progress((text) => out.push(text), { live: true });
    progress.update('1/3');
    progress.say('hello');
    expect(out.at(-1)).toBe('\r\x1b[2Khello\n1/3');
  });

  test('when not on a terminal, then a line is printed at most once per interval', () => {
    const out: string[] = [];
    let now = 0;
    const progress = new Progress((text) => out.push(text), {
      live: false,
      intervalMs: 1_000,
      now: () => now,
    });
    progress.update('a');
    now = 500;
    progress.update('b');
    now = 1_100;
    progress.update('c');
    progress.done('end');
    expect(out).toEqual(['  .. a\n', '  .. c\n', '  .. end\n']);
  });
});

describe('progress on a narrow terminal', () => {
  test('when the live line is wider than the terminal, then it is cut to fit so it can be rewritten', () => {
    const out: string[] = [];
    const progress = new Progress((text) => out.push(text), { live: true, columns: () => 10 });
    progress.update('0123456789abc');
    expect(out).toEqual(['\r\x1b[2K01234567…']);
  });
});
