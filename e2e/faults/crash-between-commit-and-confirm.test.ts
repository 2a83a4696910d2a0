import type { MessagingStyle, ServiceName } from '@app/contracts';
import { TestBroker, startSystem, waitFor, type Spy, type RunningSystem } from '@app/testing';
import {
  consumed,
  counterValue,
  countOf,
  expectCleanLedger,
  orderCompleted,
  placeOrder,
} from './helpers';

/**
 * A row claimed by a relay that died is claimed again once its lease ran out: 3 s here
 * (`OUTBOX_LEASE_MS` of the relay that claims it; 30 s by default), so the test does not
 * wait out the default. The timeout only bounds a broken run.
 */
const LEASE_MS = 3_000;
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

/** Per style: Order's first message and who receives it; what Invoicing answers, and where Order hears it. */
const STYLES: Record<
  MessagingStyle,
  {
    first: string;
    receivers: (readonly [ServiceName, string])[];
    invoicingSays: string;
    orderHearsIn: string;
  }
> = {
  event: {
    first: 'NewOrder',
    receivers: [
      ['invoicing', 'invoicing.new-order'],
      ['shipping', 'shipping.new-order'],
      ['statistics', 'statistics.new-order'],
      ['payment', 'payment.new-order'],
    ],
    invoicingSays: 'InvoiceIssued',
    orderHearsIn: 'order.invoice-issued',
  },
  command: {
    first: 'AuthorizePayment',
    receivers: [['payment', 'payment.authorize-payment']],
    invoicingSays: 'InvoiceCreated',
    orderHearsIn: 'order.command-replies',
  },
};

/**
 * The transactional outbox closes the window between committing a change and getting the
 * broker's confirm for its message: a crash before publishing loses nothing (the row waits
 * in the outbox), and a crash after the confirm but before the row is marked sent publishes
 * it again, which the receiver's inbox absorbs.
 */
describe.each<MessagingStyle>(['event', 'command'])(
  'end to end, fault: a crash between commit and confirm (%s style)',
  (style) => {
    const { first, receivers, invoicingSays, orderHearsIn } = STYLES[style];
    let system: RunningSystem;
    let broker: TestBroker;
    let wire: Spy;
    const seen = (type: string, orderId: string) => (m: { type: string; body: unknown }) =>
      m.type === type && aboutOrder(orderId)(m);

    beforeAll(async () => {
      system = await startSystem({ label: `e2e_fault_crash_outbox_${style}` });
      broker = await TestBroker.connect(system.vhost.url);
      wire = await broker.spyOnEverything();
    });

    afterAll(async () => {
      await broker?.close();
      await system?.teardown();
    });

    test(`when Order is killed after committing an order whose ${first} was not yet published, then after a restart it is published and handled exactly once`, async () => {
      await system.restart('order', { FAULT_RELAY_PAUSED: 'true' });
      const orderId = await placeOrder(system, { style });
      const [held] = await outboxRowsOf(system, 'order', first, orderId);
      expect(held).toMatchObject({ attempts: 0, sent_at: null });

      await system.services.order.kill();
      await system.restart('order');

      await orderCompleted(system, orderId);
      const ledger = await expectCleanLedger(
        system,
        'Order killed before its relay published',
        [orderId],
        { style, wire: wire.messages },
      );
      const published = await wire.waitForCount(1, seen(first, orderId));
      expect(published.map((m) => m.raw.properties.messageId)).toEqual([held!.message_id]);
      expect(await outboxRowsOf(system, 'order', first, orderId)).toEqual([
        expect.objectContaining({
          message_id: held!.message_id,
          attempts: 1,
          sent_at: expect.any(Date),
        }),
      ]);
      expect(
        await counterValue(system, 'order', 'messages_published_total', {
          type: first,
          outcome: 'confirmed',
        }),
      ).toBe(1);
      for (const [service, queue] of receivers) {
        expect(
          await countOf(
            system,
            service,
            'SELECT count(*) AS n FROM inbox_messages WHERE consumer = $1 AND message_id = $2::uuid',
            [queue, held!.message_id],
          ),
        ).toBe(1);
        expect(await consumed(system, service, { queue, type: first, outcome: 'processed' })).toBe(
          1,
        );
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
      `when Invoicing kills itself after ${invoicingSays} was confirmed but before marking it sent, then after a restart it publishes it again and Order absorbs the duplicate`,
      async () => {
        await system.restart('invoicing', {
          FAULT_CRASH_AFTER_PUBLISH: 'true',
          OUTBOX_LEASE_MS: String(LEASE_MS),
        });
        const crashing = system.services.invoicing;
        const duplicatesBefore = await consumed(system, 'order', {
          queue: orderHearsIn,
          outcome: 'duplicate',
        });

        const orderId = await placeOrder(system, { style });

        const [sent] = await wire.waitForCount(1, seen(invoicingSays, orderId));
        await waitFor('Invoicing to have killed itself', () => processGone(crashing.pid));
        // Already exited: stop() sends nothing and reports no exit code (killed by a signal).
        expect(await crashing.stop()).toBeNull();
        const [claimed] = await outboxRowsOf(system, 'invoicing', invoicingSays, orderId);
        expect(claimed).toMatchObject({
          message_id: sent!.raw.properties.messageId,
          attempts: 1,
          sent_at: null,
        });

        await system.restart('invoicing');

        await waitFor(
          `the ${invoicingSays} row to be published again and marked sent`,
          async () =>
            (await outboxRowsOf(system, 'invoicing', invoicingSays, orderId))[0]?.sent_at instanceof
            Date,
          { timeoutMs: LEASE_EXPIRY_TIMEOUT_MS },
        );
        const issued = await wire.waitForCount(2, seen(invoicingSays, orderId));
        expect(issued.map((m) => m.raw.properties.messageId)).toEqual([
          claimed!.message_id,
          claimed!.message_id,
        ]);
        expect(await outboxRowsOf(system, 'invoicing', invoicingSays, orderId)).toEqual([
          expect.objectContaining({ attempts: 2, sent_at: expect.any(Date) }),
        ]);
        await orderCompleted(system, orderId);
        const duplicates = await waitFor(
          `Order to absorb the second ${invoicingSays}`,
          async () => {
            const n = await consumed(system, 'order', {
              queue: orderHearsIn,
              outcome: 'duplicate',
            });
            return n - duplicatesBefore >= 1 ? n - duplicatesBefore : undefined;
          },
        );
        expect(duplicates).toBe(1);
        expect(
          await countOf(
            system,
            'order',
            'SELECT count(*) AS n FROM inbox_messages WHERE message_id = $1::uuid',
            [claimed!.message_id],
          ),
        ).toBe(1);
        const ledger = await expectCleanLedger(
          system,
          'Invoicing crashed after a confirm',
          [orderId],
          { style, wire: wire.messages },
        );
        expect(ledger.redeliveries.order).toBeGreaterThanOrEqual(1);
      },
      LEASE_EXPIRY_TIMEOUT_MS * 2,
    );
  },
);
