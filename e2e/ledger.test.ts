import { randomUUID } from 'node:crypto';
import {
  TestBroker,
  anOrderRequest,
  checkLedger,
  request,
  startSystem,
  waitFor,
  type RunningSystem,
  type Spy,
} from '@app/testing';
import { queuesIdle } from './faults/support';

/**
 * The ledger must be able to fail: unique indexes cap rows, so it also counts effects
 * (Statistics' sums), messages (outbox rows and message ids on the wire per order and
 * type) and each order's status history. Here a clean run passes, then each kind of
 * double is made on purpose and the ledger must name it.
 */
describe('the ledger sees doubles that unique indexes would hide', () => {
  let system: RunningSystem;
  let broker: TestBroker;
  let wire: Spy;
  const placed: Record<'event' | 'command', string[]> = { event: [], command: [] };

  const completed = (orderId: string) =>
    waitFor(`order ${orderId} to complete`, async () => {
      const order = await request(`${system.services.order.url}/orders/${orderId}`);
      return order.body?.status === 'COMPLETED' || undefined;
    });

  beforeAll(async () => {
    system = await startSystem({ label: 'e2e_ledger' });
    broker = await TestBroker.connect(system.vhost.url);
    wire = await broker.spyOnEverything();
    for (const style of ['event', 'event', 'command'] as const) {
      const response = await request(`${system.services.order.url}/orders`, {
        body: anOrderRequest({ style }),
      });
      expect(response.status).toBe(202);
      placed[style].push(response.body.id as string);
    }
    await Promise.all([...placed.event, ...placed.command].map(completed));
    await queuesIdle(system.vhost.name);
  });

  afterAll(async () => {
    await broker?.close();
    await system?.teardown();
  });

  const ledger = (style: 'event' | 'command') =>
    checkLedger(system, placed[style], style, { wire: wire.messages });

  test('when every order went through once, then nothing is doubled or miscounted in either style', async () => {
    for (const style of ['event', 'command'] as const) {
      expect(await ledger(style)).toMatchObject({
        lost: [],
        doubled: [],
        miscounted: [],
        completed: placed[style].length,
      });
    }
    // The spy saw every order's messages: NewOrder in the event style, the commands in the other.
    const typesOf = (orderId: string) =>
      new Set(
        wire.messages
          .filter((m) => (m.body as { orderId?: string }).orderId === orderId)
          .map((m) => m.type),
      );
    expect(typesOf(placed.event[0]!)).toEqual(
      new Set(['NewOrder', 'InvoiceIssued', 'ShipmentPrepared', 'AuthorizationAccepted']),
    );
    expect(typesOf(placed.command[0]!)).toEqual(
      new Set([
        'AuthorizePayment',
        'PaymentAuthorized',
        'CreateInvoice',
        'InvoiceCreated',
        'ShipOrder',
        'ShipmentCreated',
      ]),
    );
  });

  test('when a NewOrder is sent again under a new message id, then the receivers absorb it and the ledger still reports the second message on the wire', async () => {
    const orderId = placed.event[0]!;
    const [original] = wire.messages.filter(
      (m) => m.type === 'NewOrder' && (m.body as { orderId?: string }).orderId === orderId,
    );
    await broker.publishMessage('NewOrder', original!.body as Record<string, unknown>);
    await waitFor(
      'the replayed NewOrder on the wire',
      () =>
        wire.messages.filter(
          (m) => m.type === 'NewOrder' && (m.body as { orderId?: string }).orderId === orderId,
        ).length === 2 || undefined,
    );
    await queuesIdle(system.vhost.name);

    const result = await ledger('event');
    expect(result.doubled).toEqual([
      { orderId, service: 'order', count: 2, what: 'wire NewOrder' },
    ]);
    // Every receiver absorbed it: no second invoice, shipment, payment, count or sum.
    expect(result.miscounted).toEqual([]);
    expect(result.lost).toEqual([]);
  });

  test('when Statistics adds an order to its totals a second time, then the ledger reports the sums off', async () => {
    const [counted] = await system.databases.statistics.query<{
      currency: string;
      revenue_cents: string;
    }>('SELECT currency, revenue_cents::text FROM counted_orders WHERE order_id = $1::uuid', [
      placed.event[1],
    ]);
    // What a handler without its inbox and its per-order guard would do with a redelivery.
    await system.databases.statistics.query(
      `UPDATE currency_totals SET orders = orders + 1, revenue_cents = revenue_cents + $2::bigint
        WHERE currency = $1`,
      [counted!.currency, counted!.revenue_cents],
    );
    const result = await ledger('event');
    expect(result.miscounted.map((m) => m.what)).toEqual([
      `currency_totals ${counted!.currency} orders`,
      `currency_totals ${counted!.currency} revenue_cents`,
    ]);
  });

  test('when a handler writes its outgoing message twice, then the ledger reports the second outbox row', async () => {
    const orderId = placed.command[0]!;
    await system.databases.invoicing.query(
      `INSERT INTO outbox_messages (message_id, type, exchange, routing_key, payload, properties)
       SELECT $2::uuid, type, exchange, routing_key, payload, properties FROM outbox_messages
        WHERE payload->>'orderId' = $1 AND type = 'InvoiceCreated'`,
      [orderId, randomUUID()],
    );
    const result = await ledger('command');
    expect(result.doubled).toContainEqual({
      orderId,
      service: 'invoicing',
      count: 2,
      what: 'message InvoiceCreated',
    });
  });

  test('when an order enters a status twice or skips the saga, then the ledger reports its history', async () => {
    const orderId = placed.command[0]!;
    await system.databases.order.query(
      `INSERT INTO order_status_changes (order_id, status) VALUES ($1::uuid, 'AUTHORIZED')`,
      [orderId],
    );
    const result = await ledger('command');
    expect(result.doubled).toContainEqual({
      orderId,
      service: 'order',
      count: 2,
      what: 'status AUTHORIZED',
    });
    expect(result.miscounted).toContainEqual(
      expect.objectContaining({ service: 'order', what: `status history of ${orderId}` }),
    );
  });
});
