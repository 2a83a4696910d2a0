import { busyTicksOfMachine, busyTicksOfProcess } from '../../src/cpu';

describe('reading /proc', () => {
  it('when a command name holds spaces and parentheses, then utime + stime are still found', () => {
    const stat =
      '4242 (node (my worker)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 150 25 0 0 20 0 11 0 100 0 0';
    expect(busyTicksOfProcess(stat)).toBe(175);
  });

  it('when reading the machine, then user, nice, system, irq, softirq and steal count as busy', () => {
    const stat = 'cpu  100 5 50 1000 20 3 2 1 0 0\ncpu0 50 2 25 500 10 1 1 0 0 0\n';
    expect(busyTicksOfMachine(stat)).toBe(161);
  });
});
