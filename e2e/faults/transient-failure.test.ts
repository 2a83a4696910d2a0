import type { MessagingStyle } from '@app/contracts';
import { TestBroker, startSystem, type RunningSystem, type Spy } from '@app/testing';
import { consumed, countOf, expectCleanLedger, orderCompleted, placeOrder } from './helpers';

/** What Invoicing hears of a new order, and what it says, in each style. */
const INVOICING = {
  event: { queue: 'invoicing.new-order', type: 'NewOrder', says: 'InvoiceIssued' },
  command: { queue: 'invoicing.create-invoice', type: 'CreateInvoice', says: 'InvoiceCreated' },
} as const;

/**
 * A handler that fails a bounded number of times (a database blip, a timeout) is retried
 * through the retry queues and then succeeds: the message is neither lost nor parked,
 * and its effect happens once, in both styles.
 */
describe('end to end, fault: transient handler failure', () => {
  let system: RunningSystem;
  let broker: TestBroker;
  let wire: Spy;

  beforeAll(async () => {
    system = await startSystem({ label: 'e2e_fault_transient' });
    broker = await TestBroker.connect(system.vhost.url);
    wire = await broker.spyOnEverything();
  });

  afterAll(async () => {
    await broker?.close();
    await system?.teardown();
  });

  test.each<MessagingStyle>(['event', 'command'])(
    'when Invoicing fails the order’s message twice before it succeeds (%s style), then the order completes with one invoice after two retries',
    async (style) => {
      const { queue, type, says } = INVOICING[style];
      await system.restart('invoicing', {
        FAULT_HANDLER_FAIL_TIMES: '2',
        RETRY_DELAYS_MS: '200,400',
      });

      const orderId = await placeOrder(system, { style });

      await orderCompleted(system, orderId);
      await expectCleanLedger(system, 'transient failure of Invoicing', [orderId], {
        style,
        wire: wire.messages,
      });
      const outcome = (name: string) =>
        consumed(system, 'invoicing', { queue, type, outcome: name });
      expect(await outcome('retried')).toBe(2);
      expect(await outcome('processed')).toBe(1);
      expect(await outcome('duplicate')).toBe(0);
      expect(await outcome('dead-lettered')).toBe(0);
      expect(
        await countOf(
          system,
          'invoicing',
          'SELECT count(*) AS n FROM invoices WHERE order_id = $1',
          [orderId],
        ),
      ).toBe(1);
      const said = wire.messages.filter(
        (m) => m.type === says && (m.body as { orderId?: string }).orderId === orderId,
      );
      expect(said).toHaveLength(1);
      expect(await broker.depth(`${queue}.dead`)).toBe(0);
      const attempts = system.services.invoicing.logs
        .filter(
          (line) => line.correlationId === orderId && line.msg === 'handler failed; retrying later',
        )
        .map((line) => line.attempt);
      expect(attempts).toEqual([1, 2]);
    },
  );
});
