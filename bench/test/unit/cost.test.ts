import { cpuPerOrder, transactionsPerOrder } from '../../src/cost';

describe('cost per completed order', () => {
  it('when two databases committed between two readings, then each and their total are divided by the orders', () => {
    const before = {
      test_bench_x_order: { commits: 1_000, rollbacks: 2 },
      test_bench_x_payment: { commits: 500, rollbacks: 0 },
    };
    const after = {
      test_bench_x_order: { commits: 1_400, rollbacks: 3 },
      test_bench_x_payment: { commits: 600, rollbacks: 0 },
    };
    const rows = transactionsPerOrder(
      before,
      after,
      { order: 'test_bench_x_order', payment: 'test_bench_x_payment' },
      100,
    );
    expect(rows).toEqual([
      { label: 'order', commits: 400, rollbacks: 1, commitsPerOrder: 4, rollbacksPerOrder: 0.01 },
      { label: 'payment', commits: 100, rollbacks: 0, commitsPerOrder: 1, rollbacksPerOrder: 0 },
      { label: 'total', commits: 500, rollbacks: 1, commitsPerOrder: 5, rollbacksPerOrder: 0.01 },
    ]);
  });

  it('when a database is missing from a reading, then it counts from zero, and no orders give zero', () => {
    const rows = transactionsPerOrder({}, { db: { commits: 7, rollbacks: 0 } }, { order: 'db' }, 0);
    expect(rows[0]).toEqual({
      label: 'order',
      commits: 7,
      rollbacks: 0,
      commitsPerOrder: 0,
      rollbacksPerOrder: 0,
    });
  });

  it('when a process used 50% of a core for 10 s while 1,000 orders completed, then it cost 5 ms each', () => {
    const rows = cpuPerOrder(
      { processes: [{ label: 'order', percent: 50 }], machine: 180, others: 130, seconds: 10 },
      1_000,
    );
    expect(rows).toEqual([
      { label: 'order', percent: 50, msPerOrder: 5 },
      { label: 'other processes on the machine', percent: 130, msPerOrder: 13 },
      { label: 'machine total', percent: 180, msPerOrder: 18 },
    ]);
  });
});
