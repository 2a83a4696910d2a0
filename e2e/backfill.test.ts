import { Queues } from '@app/contracts';
import {
  TestBroker,
  anOrderRequest,
  request,
  startSystem,
  waitFor,
  type RunningSystem,
} from '@app/testing';
import { counterValue, expectCleanLedger, orderCompleted } from './faults/helpers';

/** Places `n` event-style orders at once and returns their ids. */
async function placeOrders(system: RunningSystem, n: number): Promise<string[]> {
  const placed = await Promise.all(
    Array.from({ length: n }, () =>
      request(`${system.url('order')}/orders`, { body: anOrderRequest({ style: 'event' }) }),
    ),
  );
  for (const response of placed) expect(response.status).toBe(202);
  return placed.map((response) => response.body.id as string);
}

describe('a late subscriber catches up from the order.events history', () => {
  let system: RunningSystem;
  let admin: TestBroker;

  beforeAll(async () => {
    system = await startSystem({ label: 'e2e_backfill', leastPrivilege: true });
    admin = await TestBroker.connect(system.vhost.url);
    // Statistics as if never deployed: no process, no queues, an empty database.
    await system.stop('statistics');
    for (const queue of [Queues.statisticsNewOrder.name, Queues.statisticsOrderCancelled.name])
      await admin.deleteQueue(queue);
    await system.recreateDatabase('statistics');
  });

  afterAll(async () => {
    await admin?.close();
    await system?.teardown();
  });

  test('when orders are placed before Statistics exists and more while it backfills, then once it is ready every order is counted exactly once', async () => {
    const early = await placeOrders(system, 100);
    await Promise.all(early.map((id) => orderCompleted(system, id)));

    // Slow handlers keep the backfill going while more orders arrive.
    const starting = system.start('statistics', {
      env: { STATISTICS_BACKFILL: 'true', FAULT_HANDLER_DELAY_MS: '150' },
    });
    const readiness = await waitFor('Statistics to say it is backfilling', async () => {
      const instance = system.instances('statistics')[0];
      if (!instance) return undefined;
      const ready = await request(`${instance.url}/health/ready`).catch(() => undefined);
      const checks = (ready?.body?.checks ?? {}) as Record<string, string>;
      return checks[`backfilling ${Queues.statisticsNewOrder.name}`] === 'down' ? ready : undefined;
    });
    const during = await placeOrders(system, 30);
    const stillBackfilling = await request(`${system.services.statistics.url}/health/ready`).then(
      (r) => r.status === 503,
    );
    await starting;
    const after = await placeOrders(system, 10);
    const all = [...early, ...during, ...after];

    await expectCleanLedger(system, 'backfill', all);
    const statistics = await request(`${system.url('statistics')}/statistics`);
    const backfilled = (outcome: string) =>
      counterValue(system, 'statistics', 'messages_backfilled_total', {
        queue: Queues.statisticsNewOrder.name,
        outcome,
      });
    const duplicates =
      (await backfilled('duplicate')) +
      (await counterValue(system, 'statistics', 'messages_consumed_total', {
        queue: Queues.statisticsNewOrder.name,
        outcome: 'duplicate',
      }));
    console.log(
      `[backfill] ${early.length} before, ${during.length} during (still backfilling: ${stillBackfilling}), ` +
        `${after.length} after; backfilled processed=${await backfilled('processed')}, ` +
        `duplicates absorbed=${duplicates}`,
    );

    expect(readiness.status).toBe(503);
    // The orders placed meanwhile reached the stream and the live queue both: the seam.
    expect(stillBackfilling).toBe(true);
    // Every order of this system, and no other, is in the totals: none twice.
    expect(statistics.body.orders).toBe(all.length);
    expect(await backfilled('processed')).toBeGreaterThanOrEqual(early.length);
  }, 180_000);

  test('when Statistics restarts after its backfill finished, then it reads no history again and its totals stay as they were', async () => {
    const before = await request(`${system.url('statistics')}/statistics`);

    await system.restart('statistics', { STATISTICS_BACKFILL: 'true' });
    const read = await counterValue(system, 'statistics', 'messages_backfilled_total', {});
    const after = await request(`${system.url('statistics')}/statistics`);

    expect(read).toBe(0);
    expect(after.body.orders).toBe(before.body.orders);
  });
});
