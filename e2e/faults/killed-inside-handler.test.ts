import type { MessagingStyle } from '@app/contracts';
import { TestBroker, startSystem, waitFor, type RunningSystem, type Spy } from '@app/testing';
import { consumed, countOf, expectCleanLedger, orderCompleted, placeOrder } from './helpers';

const ORDERS = 5;

/** What Shipping hears of a new order in each style. */
const SHIPPING = {
  event: { queue: 'shipping.new-order', type: 'NewOrder' },
  command: { queue: 'shipping.ship-order', type: 'ShipOrder' },
} as const;

/**
 * A consumer killed while its handlers run never acknowledged those deliveries: the broker
 * hands them back, and the restarted service handles each once. Shipping is slowed down so
 * that all orders are in its hands, unacknowledged, when it dies.
 */
describe('end to end, fault: a service killed inside its handlers', () => {
  let system: RunningSystem;
  let broker: TestBroker;
  let wire: Spy;

  beforeAll(async () => {
    system = await startSystem({ label: 'e2e_fault_killed_handler' });
    broker = await TestBroker.connect(system.vhost.url);
    wire = await broker.spyOnEverything();
  });

  afterAll(async () => {
    await broker?.close();
    await system?.teardown();
  });

  test.each<MessagingStyle>(['event', 'command'])(
    'when Shipping is SIGKILLed with five orders’ messages in flight (%s style), then after a restart every order has exactly one shipment and completes',
    async (style) => {
      const { queue, type } = SHIPPING[style];
      await system.restart('shipping', { FAULT_HANDLER_DELAY_MS: '5000' });
      const shipmentsOf = (ids: string[]) =>
        countOf(
          system,
          'shipping',
          'SELECT count(*) AS n FROM shipments WHERE order_id = ANY($1::uuid[])',
          [ids],
        );

      const orderIds = await Promise.all(
        Array.from({ length: ORDERS }, () => placeOrder(system, { style })),
      );

      // Once Shipping's message of every order is on the wire and its queue holds none ready,
      // Shipping holds them all unacknowledged.
      await waitFor(`every order's ${type} to be sent`, () => {
        const sent = new Set(
          wire.messages
            .filter((m) => m.type === type)
            .map((m) => (m.body as { orderId?: string }).orderId),
        );
        return orderIds.every((id) => sent.has(id)) || undefined;
      });
      await waitFor(`Shipping to hold every ${type} in flight`, async () => {
        return (await broker.depth(queue)) === 0;
      });
      expect(await shipmentsOf(orderIds)).toBe(0);

      await system.services.shipping.kill();

      const returned = await waitFor(
        `the ${ORDERS} unacknowledged ${type}s back in ${queue}`,
        async () => {
          const depth = await broker.depth(queue);
          return depth === ORDERS ? depth : undefined;
        },
      );
      expect(await shipmentsOf(orderIds)).toBe(0);
      await system.restart('shipping');

      await Promise.all(orderIds.map((id) => orderCompleted(system, id)));
      const ledger = await expectCleanLedger(
        system,
        'Shipping killed inside its handlers',
        orderIds,
        {
          style,
          wire: wire.messages,
        },
      );
      expect(await shipmentsOf(orderIds)).toBe(ORDERS);
      expect(await consumed(system, 'shipping', { queue, type, outcome: 'processed' })).toBe(
        ORDERS,
      );
      console.log(
        `[killed-inside-handler] ${style} style: ${type}s taken back from the killed Shipping and redelivered: ${returned}; ` +
          `inbox duplicates per service: ${JSON.stringify(ledger.redeliveries)}`,
      );
      expect(await broker.depth(`${queue}.dead`)).toBe(0);
    },
  );
});
