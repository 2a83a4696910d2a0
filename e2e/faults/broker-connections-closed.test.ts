import { ServiceNames } from '@app/contracts';
import { request, startSystem, waitFor, type RunningSystem } from '@app/testing';
import {
  closeServiceConnections,
  consumedByOutcome,
  crashLines,
  errorLines,
  gate,
  isRunning,
  serviceConnections,
  settledLedger,
  streamOrders,
  type BrokerConnectionInfo,
} from './support';

/**
 * The broker closes every service's connection (as a broker restart, a network fault or an
 * operator would) twice while orders stream in. The services reconnect and re-declare their
 * topology, the outbox holds what could not be published meanwhile, and the inbox absorbs
 * the redeliveries of messages whose acks were lost with their channel.
 */
describe('fault: the broker closes the services connections while orders stream in', () => {
  const ORDERS = 200;
  let system: RunningSystem;

  beforeAll(async () => {
    system = await startSystem({ label: 'fault_conn_closed' });
  });

  afterAll(async () => {
    await system?.teardown();
  });

  /** Waits until each of the four services has a connection the broker did not just close. */
  const reconnected = (closed: BrokerConnectionInfo[]): Promise<BrokerConnectionInfo[]> =>
    waitFor(
      'every service to reconnect',
      async () => {
        const gone = new Set(closed.map((c) => c.pid));
        const fresh = (await serviceConnections(system.vhost.name)).filter((c) => !gone.has(c.pid));
        const names = new Set(fresh.map((c) => c.connectionName));
        return ServiceNames.every((service) => names.has(service)) ? fresh : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );

  test('when every broker connection is closed twice during 200 orders, then all complete once in every service and no service crashes', async () => {
    const { order } = system.services;
    const initial = await serviceConnections(system.vhost.name);
    expect(new Set(initial.map((c) => c.connectionName))).toEqual(new Set(ServiceNames));
    // The stream may not run past these orders before the cut is made, so both cuts
    // certainly fall while orders are being posted and messages are flowing.
    const firstCut = gate();
    const secondCut = gate();
    const stream = streamOrders(order.url, ORDERS, {
      concurrency: 10,
      gates: { 100: firstCut.opened, 170: secondCut.opened },
    });

    const cuts: BrokerConnectionInfo[][] = [];
    try {
      await waitFor('the first 50 orders', () => stream.answered() >= 50, { timeoutMs: 30_000 });
      cuts.push(await closeServiceConnections(system.vhost.name));
      firstCut.open();
      await reconnected(cuts[0]!);
      await waitFor('the first 120 orders', () => stream.answered() >= 120, { timeoutMs: 30_000 });
      cuts.push(await closeServiceConnections(system.vhost.name));
      secondCut.open();
    } finally {
      firstCut.open();
      secondCut.open();
    }
    const responses = await stream.done;
    await reconnected(cuts[1]!);

    // Every POST was accepted: the outbox held the messages while the broker link was down.
    if (responses.some((r) => r.status !== 202)) console.log(errorLines(order).join('\n'));
    expect(responses.filter((r) => r.status !== 202)).toEqual([]);
    // Each cut closed all four services' connections.
    for (const cut of cuts) {
      expect(new Set(cut.map((c) => c.connectionName))).toEqual(new Set(ServiceNames));
    }
    const orderIds = responses.map((r) => r.id!);
    expect(new Set(orderIds).size).toBe(ORDERS);
    const ledger = await settledLedger(system, orderIds, 90_000);
    const outcomes = await consumedByOutcome(system.services);
    console.log(
      `broker connections closed ${cuts.length} times during ${ORDERS} orders: redeliveries absorbed by the inbox ${JSON.stringify(ledger.redeliveries)}; deliveries by outcome ${JSON.stringify(outcomes)}`,
    );
    expect(ledger).toMatchObject({
      orders: ORDERS,
      completed: ORDERS,
      lost: [],
      doubled: [],
      miscounted: [],
    });
    const counts = await Promise.all([
      system.databases.invoicing.query<{ n: string }>(
        'SELECT count(*) AS n FROM invoices WHERE order_id = ANY($1::uuid[])',
        [orderIds],
      ),
      system.databases.shipping.query<{ n: string }>(
        'SELECT count(*) AS n FROM shipments WHERE order_id = ANY($1::uuid[])',
        [orderIds],
      ),
      system.databases.statistics.query<{ n: string }>(
        'SELECT count(*) AS n FROM counted_orders WHERE order_id = ANY($1::uuid[])',
        [orderIds],
      ),
    ]);
    // Half the orders are in the command style, which Statistics never hears of.
    expect(counts.map(([row]) => Number(row?.n))).toEqual([ORDERS, ORDERS, ORDERS / 2]);
    // No delivery was parked: the faults were the connection's, not the messages'.
    for (const [service, byOutcome] of Object.entries(outcomes)) {
      expect({ service, deadLettered: byOutcome['dead-lettered'] ?? 0 }).toEqual({
        service,
        deadLettered: 0,
      });
    }
    // Still running, ready, and no crash in the logs.
    for (const service of Object.values(system.services)) {
      expect({ service: service.service, running: isRunning(service) }).toEqual({
        service: service.service,
        running: true,
      });
      expect(crashLines(service)).toEqual([]);
      await waitFor(`${service.service} to be ready`, async () => {
        return (await request(`${service.url}/health/ready`)).status === 200;
      });
    }
  }, 150_000);
});
