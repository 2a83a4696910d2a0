import { TestBroker, startSystem, waitFor, type RunningSystem, type Spy } from '@app/testing';
import { memoryHighWatermark, setMemoryHighWatermark } from './broker-app';
import { counterValue } from './helpers';
import { settledLedger, streamOrders } from './support';

/**
 * The broker raises its memory alarm while orders stream in: it blocks every publishing
 * connection (`connection.blocked`), so publishes wait for confirms that do not come and
 * the publish timeout (10 s) fires. The relay keeps the rows and publishes them again once
 * the alarm clears, and the broker may also deliver the first copies it had taken in: a
 * message twice under one id, which the inbox absorbs. Nothing lost, nothing doubled. It
 * raises the alarm of the broker every test file shares, so it runs in the serial project.
 */
describe('fault: the broker blocks publishers (memory alarm) under load', () => {
  const ORDERS = 40;
  /** How long the alarm stays on after the first publish timed out. */
  const ALARM_MS = 3_000;
  let system: RunningSystem;
  let broker: TestBroker;
  let wire: Spy;
  let watermark = 0.4;

  beforeAll(async () => {
    watermark = await memoryHighWatermark();
    system = await startSystem({ label: 'fault_memory_alarm' });
    broker = await TestBroker.connect(system.vhost.url);
    wire = await broker.spyOnEverything();
  });

  afterAll(async () => {
    await setMemoryHighWatermark(watermark);
    await broker?.close();
    await system?.teardown();
  });

  test('when the memory alarm blocks publishing for longer than the publish timeout, then orders are still accepted and every one completes once after it clears, in both styles', async () => {
    const { order } = system.services;
    await setMemoryHighWatermark(0.0001);
    let responses;
    try {
      responses = await streamOrders(order.url, ORDERS, { concurrency: 4 }).done;
      await waitFor(
        'a publish to time out while the broker blocks it',
        async () =>
          (await counterValue(system, 'order', 'messages_published_total', { outcome: 'failed' })) >
            0 || undefined,
        { timeoutMs: 60_000 },
      );
      await new Promise((resolve) => setTimeout(resolve, ALARM_MS));
    } finally {
      await setMemoryHighWatermark(watermark);
    }
    expect(responses.filter((r) => r.status !== 202)).toEqual([]);
    const ids = responses.map((r) => r.id!);
    const ledger = await settledLedger(system, ids, 120_000, { wire: wire.messages });
    expect(ledger).toMatchObject({
      orders: ORDERS,
      completed: ORDERS,
      lost: [],
      doubled: [],
      miscounted: [],
    });
    console.log(
      `[memory-alarm] ${ORDERS} orders; publishes timed out at Order: ${await counterValue(system, 'order', 'messages_published_total', { outcome: 'failed' })}; redeliveries ${JSON.stringify(ledger.redeliveries)}; wire messages ${wire.messages.length}`,
    );
  }, 240_000);
});
