import { randomUUID } from 'node:crypto';
import { Exchanges, Messages, type NewOrder } from '@app/contracts';
import {
  TestBroker,
  checkLedger,
  request,
  startSystem,
  waitFor,
  type Spy,
  type RunningSystem,
} from '@app/testing';
import { consumed, countOf, expectCleanLedger, orderCompleted, placeOrder } from './helpers';
import { quiet } from './support';

const NEW_ORDER_QUEUES = [
  ['invoicing', 'invoicing.new-order'],
  ['shipping', 'shipping.new-order'],
  ['statistics', 'statistics.new-order'],
] as const;

/**
 * At-least-once delivery means a consumer may see one NewOrder several times, under one
 * message id (a redelivery, a relay that publishes again) or under several (the order
 * announced twice). The order is placed over HTTP with Order's relay held, so its NewOrder
 * waits in the outbox; the test publishes copies of it first, then lets the relay publish
 * the original, and the order completes through the real flow.
 */
describe('end to end, fault: duplicate delivery of NewOrder', () => {
  let system: RunningSystem;
  let broker: TestBroker;
  let invoiceEvents: Spy;
  let shipmentEvents: Spy;

  beforeAll(async () => {
    system = await startSystem({ label: 'e2e_fault_duplicate' });
    broker = await TestBroker.connect(system.vhost.url);
    invoiceEvents = await broker.spy(Exchanges.invoicingEvents.name);
    shipmentEvents = await broker.spy(Exchanges.shippingEvents.name);
  });

  afterAll(async () => {
    await broker?.close();
    await system?.teardown();
  });

  const setOrderFaults = async (faults: Record<string, unknown>): Promise<void> => {
    const response = await request(`${system.services.order.url}/admin/faults`, {
      method: 'PUT',
      body: faults,
    });
    expect(response.status).toBe(200);
  };

  /** Places an order whose NewOrder stays in Order's outbox until the relay is released. */
  const placeHeldOrder = async (): Promise<{
    orderId: string;
    messageId: string;
    payload: NewOrder;
  }> => {
    await setOrderFaults({ relayPaused: true });
    const orderId = await placeOrder(system);
    const rows = await system.databases.order.query<{
      message_id: string;
      payload: NewOrder;
      sent_at: Date | null;
    }>(
      `SELECT message_id, payload, sent_at FROM outbox_messages
        WHERE type = 'NewOrder' AND payload->>'orderId' = $1`,
      [orderId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.sent_at).toBeNull();
    return { orderId, messageId: rows[0]!.message_id, payload: rows[0]!.payload };
  };

  const outcomesOf = async (): Promise<
    Record<string, { processed: number; duplicate: number }>
  > => {
    const result: Record<string, { processed: number; duplicate: number }> = {};
    for (const [service, queue] of NEW_ORDER_QUEUES) {
      result[queue] = {
        processed: await consumed(system, service, {
          queue,
          type: 'NewOrder',
          outcome: 'processed',
        }),
        duplicate: await consumed(system, service, {
          queue,
          type: 'NewOrder',
          outcome: 'duplicate',
        }),
      };
    }
    return result;
  };

  /** Waits until every NewOrder queue handled `deliveries` more, then returns the increase. */
  const afterDeliveries = async (
    before: Awaited<ReturnType<typeof outcomesOf>>,
    deliveries: number,
  ): Promise<Record<string, { processed: number; duplicate: number }>> =>
    waitFor(`${deliveries} NewOrder deliveries handled on every queue`, async () => {
      const now = await outcomesOf();
      const delta = Object.fromEntries(
        Object.entries(now).map(([queue, counts]) => [
          queue,
          {
            processed: counts.processed - (before[queue]?.processed ?? 0),
            duplicate: counts.duplicate - (before[queue]?.duplicate ?? 0),
          },
        ]),
      );
      return Object.values(delta).every((d) => d.processed + d.duplicate >= deliveries)
        ? delta
        : undefined;
    });

  const expectOneOfEach = async (orderId: string): Promise<void> => {
    const perOrder = (table: string) =>
      `SELECT count(*) AS n FROM ${table} WHERE order_id = $1::uuid`;
    expect(await countOf(system, 'invoicing', perOrder('invoices'), [orderId])).toBe(1);
    expect(await countOf(system, 'shipping', perOrder('shipments'), [orderId])).toBe(1);
    expect(await countOf(system, 'statistics', perOrder('counted_orders'), [orderId])).toBe(1);
  };

  const eventsFor = (spy: Spy, orderId: string) =>
    spy.messages.filter((m) => (m.body as { orderId?: string }).orderId === orderId);

  /** Waits for the InvoiceIssued and ShipmentPrepared of the order, then finds no second one. */
  const expectOneOutcomeEventEach = async (orderId: string): Promise<void> => {
    for (const spy of [invoiceEvents, shipmentEvents]) {
      await spy.waitForCount(1, (m) => (m.body as { orderId?: string }).orderId === orderId);
      expect(eventsFor(spy, orderId)).toHaveLength(1);
    }
  };

  test('when the same NewOrder (one message id) arrives twice, then one invoice, one shipment and one statistics count exist, and the relayed original is absorbed too', async () => {
    const { orderId, messageId, payload } = await placeHeldOrder();
    const before = await outcomesOf();

    await broker.publishMessage('NewOrder', payload, {
      messageId,
      appId: 'order',
      userId: broker.user,
    });
    await broker.publishMessage('NewOrder', payload, {
      messageId,
      appId: 'order',
      userId: broker.user,
    });

    const afterCopies = await afterDeliveries(before, 2);
    for (const [, queue] of NEW_ORDER_QUEUES) {
      expect(afterCopies[queue]).toEqual({ processed: 1, duplicate: 1 });
    }
    await expectOneOfEach(orderId);

    await setOrderFaults({});
    await orderCompleted(system, orderId);
    const afterOriginal = await afterDeliveries(before, 3);
    for (const [, queue] of NEW_ORDER_QUEUES) {
      expect(afterOriginal[queue]).toEqual({ processed: 1, duplicate: 2 });
    }
    await expectOneOfEach(orderId);
    for (const [service, queue] of NEW_ORDER_QUEUES) {
      const inbox = await countOf(
        system,
        service,
        'SELECT count(*) AS n FROM inbox_messages WHERE consumer = $1 AND message_id = $2::uuid',
        [queue, messageId],
      );
      expect(inbox).toBe(1);
    }
    await expectOneOutcomeEventEach(orderId);
    const stats = await request(`${system.services.statistics.url}/statistics`);
    expect(stats.body.orders).toBe(1);
    await expectCleanLedger(system, 'duplicate NewOrder, one message id', [orderId]);
  });

  test('when the same order is announced twice under different message ids, then it is still invoiced, shipped and counted once', async () => {
    const { orderId, payload } = await placeHeldOrder();
    const before = await outcomesOf();
    const statsBefore = (await request(`${system.services.statistics.url}/statistics`)).body
      .orders as number;

    await broker.publishMessage('NewOrder', payload, {
      messageId: randomUUID(),
      appId: 'order',
      userId: broker.user,
    });
    await broker.publishMessage('NewOrder', payload, {
      messageId: randomUUID(),
      appId: 'order',
      userId: broker.user,
    });
    await setOrderFaults({});

    await orderCompleted(system, orderId);
    const delta = await afterDeliveries(before, 3);
    for (const [, queue] of NEW_ORDER_QUEUES) {
      expect(delta[queue]).toEqual({ processed: 1, duplicate: 2 });
    }
    await expectOneOfEach(orderId);
    await expectOneOutcomeEventEach(orderId);
    const stats = await request(`${system.services.statistics.url}/statistics`);
    expect(stats.body.orders).toBe(statsBefore + 1);
    await expectCleanLedger(system, 'same order, three message ids', [orderId]);
  });
});

/**
 * The command style meets the same at-least-once delivery: a CreateInvoice or ShipOrder
 * delivered again under its own message id is recognised by the inbox (no effect, no second
 * reply); sent again under a new message id (Order asking twice), it finds the invoice or
 * shipment made before and answers with it again, which Order absorbs.
 */
describe('end to end, fault: duplicate delivery of the commands', () => {
  const COMMANDS = [
    ['invoicing', 'invoicing.create-invoice', 'CreateInvoice', 'invoices'],
    ['shipping', 'shipping.ship-order', 'ShipOrder', 'shipments'],
  ] as const;
  let system: RunningSystem;
  let broker: TestBroker;
  let wire: Spy;

  beforeAll(async () => {
    system = await startSystem({ label: 'e2e_fault_duplicate_commands' });
    broker = await TestBroker.connect(system.vhost.url);
    wire = await broker.spyOnEverything();
  });

  afterAll(async () => {
    await broker?.close();
    await system?.teardown();
  });

  /** Sends a command of the order again as it went over the wire, with `messageId` if given. */
  const sendAgain = async (orderId: string, type: string, messageId?: string) => {
    const [sent] = wire.messages.filter(
      (m) => m.type === type && (m.body as { orderId?: string }).orderId === orderId,
    );
    const { exchange, routingKey } = Messages[type as 'CreateInvoice'];
    await broker.publishRaw(exchange, routingKey, sent!.raw.content, {
      ...sent!.raw.properties,
      ...(messageId ? { messageId } : {}),
    });
  };

  const handled = (service: 'invoicing' | 'shipping', queue: string, type: string) =>
    Promise.all(
      (['processed', 'duplicate'] as const).map((outcome) =>
        consumed(system, service, { queue, type, outcome }),
      ),
    );

  test('when CreateInvoice and ShipOrder arrive again under their own message ids, then the inboxes absorb them: one invoice, one shipment, no second reply', async () => {
    const orderId = await placeOrder(system, { style: 'command' });
    await orderCompleted(system, orderId);
    for (const [service, queue, type, table] of COMMANDS) {
      const [processed, duplicates] = await handled(service, queue, type);
      await sendAgain(orderId, type);
      await waitFor(`${type} handled again`, async () => {
        const [, now] = await handled(service, queue, type);
        return now === (duplicates ?? 0) + 1 || undefined;
      });
      expect((await handled(service, queue, type))[0]).toBe(processed);
      expect(
        await countOf(system, service, `SELECT count(*) AS n FROM ${table} WHERE order_id = $1`, [
          orderId,
        ]),
      ).toBe(1);
    }
    // One message id per command on the wire, and no second reply.
    await expectCleanLedger(system, 'commands delivered twice', [orderId], {
      style: 'command',
      wire: wire.messages,
    });
  });

  test('when CreateInvoice and ShipOrder are sent again under new message ids, then nothing is made twice and Order absorbs the repeated replies', async () => {
    const orderId = await placeOrder(system, { style: 'command' });
    await orderCompleted(system, orderId);
    const historyBefore = await system.databases.order.query(
      'SELECT status FROM order_status_changes WHERE order_id = $1::uuid ORDER BY id',
      [orderId],
    );
    for (const [, , type] of COMMANDS) await sendAgain(orderId, type, randomUUID());
    // Each repeated command is answered again with what exists.
    for (const reply of ['InvoiceCreated', 'ShipmentCreated']) {
      await wire.waitForCount(
        2,
        (m) => m.type === reply && (m.body as { orderId?: string }).orderId === orderId,
      );
    }
    // The ledger sees exactly what the test caused: each reply written twice (once per
    // command); no second invoice, shipment or payment, no status entered twice.
    await quiet(system);
    const ledger = await checkLedger(system, [orderId], 'command');
    expect(ledger).toMatchObject({ lost: [], miscounted: [], completed: 1 });
    expect(ledger.doubled).toEqual([
      { orderId, service: 'invoicing', count: 2, what: 'message InvoiceCreated' },
      { orderId, service: 'shipping', count: 2, what: 'message ShipmentCreated' },
    ]);
    expect(
      await system.databases.order.query(
        'SELECT status FROM order_status_changes WHERE order_id = $1::uuid ORDER BY id',
        [orderId],
      ),
    ).toEqual(historyBefore);
  });
});
