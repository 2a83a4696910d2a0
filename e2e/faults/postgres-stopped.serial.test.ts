import {
  TestBroker,
  request,
  startSystem,
  waitFor,
  type RunningSystem,
  type Spy,
} from '@app/testing';
import { startPostgres, stopPostgres } from './postgres-app';
import { crashLines, gate, isRunning, settledLedger, streamOrders } from './support';

/**
 * Postgres itself (the machine's cluster every service's database lives in) is stopped
 * with `pg_ctlcluster` while orders stream in both styles, then started again. Order
 * answers 503 while its database is away, never half-creates an order; readiness names
 * the database; handlers and relays wait and retry; every accepted order completes once.
 * It stops the Postgres every test file shares, so it runs in the serial project.
 */
describe('fault: Postgres is stopped and started under load', () => {
  const ORDERS = 80;
  const OUTAGE_MS = 8_000;
  let system: RunningSystem;
  let broker: TestBroker;
  let wire: Spy;

  beforeAll(async () => {
    await startPostgres();
    system = await startSystem({ label: 'fault_pg_stopped' });
    broker = await TestBroker.connect(system.vhost.url);
    wire = await broker.spyOnEverything();
  });

  afterAll(async () => {
    // Whatever happened, the shared Postgres is left running.
    await startPostgres();
    await broker?.close();
    await system?.teardown();
  });

  test('when Postgres is stopped for a few seconds during 80 orders in both styles, then POSTs get 503, readiness says the database is down, and every accepted order completes once', async () => {
    const { order } = system.services;
    const stopped = gate();
    const stream = streamOrders(order.url, ORDERS, {
      concurrency: 4,
      gates: { 30: stopped.opened },
    });
    await waitFor('30 orders answered', () => stream.answered() >= 30 || undefined);
    await stopPostgres();
    stopped.open();

    const readiness = await waitFor('Order to say its database is down', async () => {
      const response = await request(`${order.url}/health/ready`);
      return response.status === 503 ? response.body : undefined;
    });
    expect(readiness).toMatchObject({ checks: { database: 'down' } });
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    await startPostgres();

    const responses = await stream.done;
    const refused = responses.filter((r) => r.status !== 202);
    // Refused while the database was away: clear 503s, never a 500 or a dropped socket.
    expect(refused.map((r) => r.status)).toEqual(refused.map(() => 503));
    expect(refused.length).toBeGreaterThan(0);
    const accepted = responses.filter((r) => r.status === 202).map((r) => r.id!);
    const ledger = await settledLedger(system, accepted, 120_000, { wire: wire.messages });
    expect(ledger).toMatchObject({
      orders: accepted.length,
      completed: accepted.length,
      lost: [],
      doubled: [],
      miscounted: [],
    });
    // Nothing half-done: every order row has its items and its first message, and no
    // order exists that was not answered 202.
    const [orphans] = await system.databases.order.query<{ n: string }>(
      `SELECT count(*) AS n FROM orders o
        WHERE NOT EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id)
           OR NOT EXISTS (SELECT 1 FROM outbox_messages m WHERE m.payload->>'orderId' = o.id::text)
           OR NOT (o.id = ANY($1::uuid[]))`,
      [accepted],
    );
    expect(Number(orphans?.n)).toBe(0);
    for (const service of Object.values(system.services)) {
      expect({
        service: service.service,
        running: isRunning(service),
        crashes: crashLines(service),
      }).toEqual({
        service: service.service,
        running: true,
        crashes: [],
      });
    }
    console.log(
      `[postgres-stopped] ${accepted.length} accepted, ${refused.length} refused with 503 during the outage; redeliveries ${JSON.stringify(ledger.redeliveries)}; wire messages ${wire.messages.length}`,
    );
  }, 240_000);
});
