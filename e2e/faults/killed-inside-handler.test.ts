import { TestBroker, startSystem, waitFor, type RunningSystem } from '@app/testing';
import { consumed, countOf, expectCleanLedger, orderCompleted, placeOrder } from './helpers';

const ORDERS = 5;

/**
 * A consumer killed while its handlers run never acknowledged those deliveries: the broker
 * hands them back, and the restarted service handles each once. Shipping is slowed down so
 * that all orders are in its hands, unacknowledged, when it dies.
 */
describe('end to end, fault: a service killed inside its handlers', () => {
  let system: RunningSystem;
  let broker: TestBroker;

  beforeAll(async () => {
    system = await startSystem({ label: 'e2e_fault_killed_handler' });
    broker = await TestBroker.connect(system.vhost.url);
  });

  afterAll(async () => {
    await broker?.close();
    await system?.teardown();
  });

  test('when Shipping is SIGKILLed with five NewOrders in flight, then after a restart every order has exactly one shipment and completes', async () => {
    await system.restart('shipping', { FAULT_HANDLER_DELAY_MS: '5000' });
    const queue = 'shipping.new-order';
    const shipmentsOf = (ids: string[]) =>
      countOf(
        system,
        'shipping',
        'SELECT count(*) AS n FROM shipments WHERE order_id = ANY($1::uuid[])',
        [ids],
      );

    const orderIds = await Promise.all(Array.from({ length: ORDERS }, () => placeOrder(system)));

    // Invoicing hears the same NewOrders: once all are invoiced, all were routed to Shipping
    // too, and an empty ready count means Shipping holds them all unacknowledged.
    await waitFor('every order to be invoiced', async () => {
      const invoiced = await countOf(
        system,
        'invoicing',
        'SELECT count(*) AS n FROM invoices WHERE order_id = ANY($1::uuid[])',
        [orderIds],
      );
      return invoiced === ORDERS;
    });
    await waitFor(`Shipping to hold every NewOrder in flight`, async () => {
      return (await broker.depth(queue)) === 0;
    });
    expect(await shipmentsOf(orderIds)).toBe(0);

    await system.services.shipping.kill();

    const returned = await waitFor(
      `the ${ORDERS} unacknowledged NewOrders back in ${queue}`,
      async () => {
        const depth = await broker.depth(queue);
        return depth === ORDERS ? depth : undefined;
      },
    );
    expect(await shipmentsOf(orderIds)).toBe(0);
    await system.restart('shipping');

    await Promise.all(orderIds.map((id) => orderCompleted(system, id)));
    const ledger = await expectCleanLedger(system, 'Shipping killed inside its handlers', orderIds);
    expect(await shipmentsOf(orderIds)).toBe(ORDERS);
    expect(
      await consumed(system, 'shipping', { queue, type: 'NewOrder', outcome: 'processed' }),
    ).toBe(ORDERS);
    // The broker's redelivered flag is neither logged nor counted by the consumer: the
    // redeliveries are the deliveries it took back; the ledger counts only inbox duplicates.
    console.log(
      `[killed-inside-handler] NewOrders taken back from the killed Shipping and redelivered: ${returned}; ` +
        `inbox duplicates per service: ${JSON.stringify(ledger.redeliveries)}`,
    );
    expect(await broker.depth(`${queue}.dead`)).toBe(0);
  });
});
