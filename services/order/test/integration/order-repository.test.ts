import { randomUUID } from 'node:crypto';
import type { DeliveryRef } from '@app/broker';
import { anAddress, anItem, createTestDatabase, type TestDatabase } from '@app/testing';
import { createDatabase, type Database } from '../../src/data-access/prisma';
import { OrderRepository } from '../../src/data-access/order.repository';
import type { Order } from '../../src/domain/order';
import { transition, type OrderEvent } from '../../src/domain/order-saga';

/**
 * The repository on a real database, called as the consumers call it. Each statement's
 * inbox rows share its transaction's start time (`received_at DEFAULT now()`), so the
 * distinct times of an order's inbox rows count the statements that wrote them.
 */
describe("order repository: an order's outcomes as single deliveries", () => {
  let testDb: TestDatabase;
  let db: Database;
  let orders: OrderRepository;

  beforeAll(async () => {
    testDb = await createTestDatabase('order', 'order-repository');
    db = createDatabase(testDb.url, 5);
    orders = new OrderRepository(db);
  });

  afterAll(async () => {
    await db?.$disconnect();
    await testDb?.drop();
  });

  const aPlacedOrder = async (): Promise<Order> => {
    const now = new Date();
    const order: Order = {
      id: randomUUID(),
      status: 'PLACED',
      style: 'event',
      customerId: 'customer-repository',
      items: [anItem()],
      totalCents: 2_500,
      currency: 'EUR',
      shippingAddress: anAddress(),
      createdAt: now,
      updatedAt: now,
    };
    await orders.insert(order, []);
    return order;
  };

  const aDelivery = (order: Order, type: string): DeliveryRef => {
    const messageId = randomUUID();
    return {
      inbox: { consumer: `order.${type}`, messageId, type },
      envelope: {
        messageId,
        type,
        correlationId: order.id,
        timestamp: new Date(),
        appId: 'payment',
      },
    };
  };

  const outcome = (order: Order, type: string, event: OrderEvent) =>
    orders.for(aDelivery(order, type)).applyOnce(order.id, (seen) => transition(seen, event));

  /** The inbox rows of these deliveries, and how many statements wrote them. */
  const statementsThatWrote = async (messageIds: string[]) => {
    const [row] = await testDb.query<{ rows: string; times: string }>(
      `SELECT count(*) AS rows, count(DISTINCT received_at) AS times
         FROM inbox_messages WHERE message_id = ANY($1::uuid[])`,
      [messageIds],
    );
    return { rows: Number(row?.rows), statements: Number(row?.times) };
  };

  test('when the three arrive while the first is being written, then the two that waited are written together by one statement, and the order has all three', async () => {
    const order = await aPlacedOrder();
    const deliveries = [
      {
        type: 'AuthorizationAccepted',
        event: { kind: 'payment-authorized', paymentId: randomUUID() },
      },
      { type: 'InvoiceIssued', event: { kind: 'invoice-known', invoiceId: randomUUID() } },
      { type: 'ShipmentPrepared', event: { kind: 'shipment-known', shipmentId: randomUUID() } },
    ] as const;
    const refs = deliveries.map(({ type }) => aDelivery(order, type));

    // In one turn of the event loop, as three consumers' deliveries can come.
    const results = await Promise.all(
      refs.map((ref, index) =>
        orders.for(ref).applyOnce(order.id, (seen) => transition(seen, deliveries[index]!.event)),
      ),
    );

    expect(results.map((result) => result.outcome)).toEqual([
      'processed',
      'processed',
      'processed',
    ]);
    expect(await orders.findById(order.id)).toMatchObject({
      status: 'COMPLETED',
      paymentId: deliveries[0].event.paymentId,
      invoiceId: deliveries[1].event.invoiceId,
      shipmentId: deliveries[2].event.shipmentId,
    });
    expect(await statementsThatWrote(refs.map((ref) => ref.inbox.messageId))).toEqual({
      rows: 3,
      statements: 2,
    });
  });

  test('when one of the waiting deliveries was handled before, then it is a duplicate and the other is applied', async () => {
    const order = await aPlacedOrder();
    const invoice = aDelivery(order, 'InvoiceIssued');
    const invoiceId = randomUUID();
    await orders
      .for(invoice)
      .applyOnce(order.id, (seen) => transition(seen, { kind: 'invoice-known', invoiceId }));

    const [payment, again, shipment] = await Promise.all([
      outcome(order, 'AuthorizationAccepted', {
        kind: 'payment-authorized',
        paymentId: randomUUID(),
      }),
      orders
        .for(invoice)
        .applyOnce(order.id, (seen) =>
          transition(seen, { kind: 'invoice-known', invoiceId: randomUUID() }),
        ),
      outcome(order, 'ShipmentPrepared', { kind: 'shipment-known', shipmentId: randomUUID() }),
    ]);

    expect([payment?.outcome, again?.outcome, shipment?.outcome]).toEqual([
      'processed',
      'duplicate',
      'processed',
    ]);
    expect(await orders.findById(order.id)).toMatchObject({ status: 'COMPLETED', invoiceId });
  });
});
