import { Exchanges } from '@app/contracts';
import { TestBroker, startSystem, waitFor, type Spy, type RunningSystem } from '@app/testing';
import {
  consumed,
  counterValue,
  countOf,
  expectCleanLedger,
  orderCompleted,
  placeOrder,
} from './helpers';

/** A row claimed by a relay that died is claimed again once its lease (30 s) ran out. */
const LEASE_EXPIRY_TIMEOUT_MS = 60_000;

interface OutboxRow extends Record<string, unknown> {
  message_id: string;
  attempts: number;
  sent_at: Date | null;
}

const outboxRowsOf = (
  system: RunningSystem,
  service: 'order' | 'invoicing',
  type: string,
  orderId: string,
): Promise<OutboxRow[]> =>
  system.databases[service].query<OutboxRow>(
    `SELECT message_id, attempts, sent_at FROM outbox_messages
      WHERE type = $1 AND payload->>'orderId' = $2`,
    [type, orderId],
  );

const aboutOrder = (orderId: string) => (m: { body: unknown }) =>
  (m.body as { orderId?: string }).orderId === orderId;

/** True once no process with this id exists any more. */
const processGone = (pid: number | undefined): boolean => {
  if (pid === undefined) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

/**
 * The transactional outbox closes the window between committing a change and getting the
 * broker's confirm for its message: a crash before publishing loses nothing (the row waits
 * in the outbox), and a crash after the confirm but before the row is marked sent publishes
 * it again, which the receiver's inbox absorbs.
 */
describe('end to end, fault: a crash between commit and confirm', () => {
  let system: RunningSystem;
  let broker: TestBroker;
  let orderEvents: Spy;
  let invoiceEvents: Spy;

  beforeAll(async () => {
    system = await startSystem({ label: 'e2e_fault_crash_outbox' });
    broker = await TestBroker.connect(system.vhost.url);
    orderEvents = await broker.spy(Exchanges.orderEvents.name);
    invoiceEvents = await broker.spy(Exchanges.invoicingEvents.name);
  });

  afterAll(async () => {
    await broker?.close();
    await system?.teardown();
  });

  test('when Order is killed after committing an order whose NewOrder was not yet published, then after a restart the NewOrder is published and handled exactly once', async () => {
    await system.restart('order', { FAULT_RELAY_PAUSED: 'true' });
    const orderId = await placeOrder(system);
    const [held] = await outboxRowsOf(system, 'order', 'NewOrder', orderId);
    expect(held).toMatchObject({ attempts: 0, sent_at: null });

    await system.services.order.kill();
    await system.restart('order');

    await orderCompleted(system, orderId);
    const ledger = await expectCleanLedger(system, 'Order killed before its relay published', [
      orderId,
    ]);
    const newOrders = await orderEvents.waitForCount(1, aboutOrder(orderId));
    expect(newOrders.map((m) => m.raw.properties.messageId)).toEqual([held!.message_id]);
    expect(await outboxRowsOf(system, 'order', 'NewOrder', orderId)).toEqual([
      expect.objectContaining({
        message_id: held!.message_id,
        attempts: 1,
        sent_at: expect.any(Date),
      }),
    ]);
    expect(
      await counterValue(system, 'order', 'messages_published_total', {
        type: 'NewOrder',
        outcome: 'confirmed',
      }),
    ).toBe(1);
    for (const [service, queue] of [
      ['invoicing', 'invoicing.new-order'],
      ['shipping', 'shipping.new-order'],
      ['statistics', 'statistics.new-order'],
    ] as const) {
      expect(
        await countOf(
          system,
          service,
          'SELECT count(*) AS n FROM inbox_messages WHERE consumer = $1 AND message_id = $2::uuid',
          [queue, held!.message_id],
        ),
      ).toBe(1);
      expect(
        await consumed(system, service, { queue, type: 'NewOrder', outcome: 'processed' }),
      ).toBe(1);
    }
    expect(ledger.redeliveries).toEqual({
      order: 0,
      invoicing: 0,
      shipping: 0,
      statistics: 0,
      payment: 0,
    });
  });

  test(
    'when Invoicing kills itself after InvoiceIssued was confirmed but before marking it sent, then after a restart it publishes the event again and Order absorbs the duplicate',
    async () => {
      await system.restart('invoicing', { FAULT_CRASH_AFTER_PUBLISH: 'true' });
      const crashing = system.services.invoicing;
      const duplicatesBefore = await consumed(system, 'order', {
        queue: 'order.invoice-issued',
        outcome: 'duplicate',
      });

      const orderId = await placeOrder(system);

      const [first] = await invoiceEvents.waitForCount(1, aboutOrder(orderId));
      await waitFor('Invoicing to have killed itself', () => processGone(crashing.pid));
      // Already exited: stop() sends nothing and reports no exit code (killed by a signal).
      expect(await crashing.stop()).toBeNull();
      const [claimed] = await outboxRowsOf(system, 'invoicing', 'InvoiceIssued', orderId);
      expect(claimed).toMatchObject({
        message_id: first!.raw.properties.messageId,
        attempts: 1,
        sent_at: null,
      });

      await system.restart('invoicing');

      await waitFor(
        'the InvoiceIssued row to be published again and marked sent',
        async () =>
          (await outboxRowsOf(system, 'invoicing', 'InvoiceIssued', orderId))[0]?.sent_at instanceof
          Date,
        { timeoutMs: LEASE_EXPIRY_TIMEOUT_MS },
      );
      const issued = await invoiceEvents.waitForCount(2, aboutOrder(orderId));
      expect(issued.map((m) => m.raw.properties.messageId)).toEqual([
        claimed!.message_id,
        claimed!.message_id,
      ]);
      expect(await outboxRowsOf(system, 'invoicing', 'InvoiceIssued', orderId)).toEqual([
        expect.objectContaining({ attempts: 2, sent_at: expect.any(Date) }),
      ]);
      await orderCompleted(system, orderId);
      const duplicates = await waitFor('Order to absorb the second InvoiceIssued', async () => {
        const n = await consumed(system, 'order', {
          queue: 'order.invoice-issued',
          outcome: 'duplicate',
        });
        return n - duplicatesBefore >= 1 ? n - duplicatesBefore : undefined;
      });
      expect(duplicates).toBe(1);
      expect(
        await countOf(
          system,
          'order',
          'SELECT count(*) AS n FROM inbox_messages WHERE message_id = $1::uuid',
          [claimed!.message_id],
        ),
      ).toBe(1);
      const ledger = await expectCleanLedger(system, 'Invoicing crashed after a confirm', [
        orderId,
      ]);
      expect(ledger.redeliveries.order).toBeGreaterThanOrEqual(1);
    },
    LEASE_EXPIRY_TIMEOUT_MS * 2,
  );
});
