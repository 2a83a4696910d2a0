import { Exchanges } from '@app/contracts';
import { TestBroker, startSystem, type RunningSystem } from '@app/testing';
import { consumed, countOf, expectCleanLedger, orderCompleted, placeOrder } from './helpers';

/**
 * A handler that fails a bounded number of times (a database blip, a timeout) is retried
 * through the retry queues and then succeeds: the message is neither lost nor parked,
 * and its effect happens once.
 */
describe('end to end, fault: transient handler failure', () => {
  let system: RunningSystem;
  let broker: TestBroker;

  beforeAll(async () => {
    system = await startSystem({ label: 'e2e_fault_transient' });
    broker = await TestBroker.connect(system.vhost.url);
  });

  afterAll(async () => {
    await broker?.close();
    await system?.teardown();
  });

  test('when Invoicing fails a NewOrder twice before it succeeds, then the order completes with one invoice after two retries', async () => {
    await system.restart('invoicing', {
      FAULT_HANDLER_FAIL_TIMES: '2',
      RETRY_DELAYS_MS: '200,400',
    });
    const invoiceEvents = await broker.spy(Exchanges.invoicingEvents.name);
    const queue = 'invoicing.new-order';

    const orderId = await placeOrder(system);

    await orderCompleted(system, orderId);
    await expectCleanLedger(system, 'transient failure of Invoicing', [orderId]);
    const outcome = (name: string) =>
      consumed(system, 'invoicing', { queue, type: 'NewOrder', outcome: name });
    expect(await outcome('retried')).toBe(2);
    expect(await outcome('processed')).toBe(1);
    expect(await outcome('duplicate')).toBe(0);
    expect(await outcome('dead-lettered')).toBe(0);
    expect(
      await countOf(system, 'invoicing', 'SELECT count(*) AS n FROM invoices WHERE order_id = $1', [
        orderId,
      ]),
    ).toBe(1);
    const issued = await invoiceEvents.waitForCount(
      1,
      (m) => (m.body as { orderId?: string }).orderId === orderId,
    );
    expect(issued).toHaveLength(1);
    expect(await broker.depth(`${queue}.dead`)).toBe(0);
    const attempts = system.services.invoicing.logs
      .filter(
        (line) => line.correlationId === orderId && line.msg === 'handler failed; retrying later',
      )
      .map((line) => line.attempt);
    expect(attempts).toEqual([1, 2]);
  });
});
