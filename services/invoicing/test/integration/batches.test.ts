import { randomUUID } from 'node:crypto';
import { sumOfSamples } from '@app/runtime';
import {
  aNewOrder,
  request,
  startServiceUnderTest,
  waitFor,
  type ServiceUnderTest,
  type Spy,
} from '@app/testing';
import { readConfig } from '../../src/config';
import { start, type RunningInvoicingService } from '../../src/main';

/**
 * Deliveries that pile up are handled in batches, one statement each (shared/broker's
 * Consumer.handleBatch, @app/store's createManyOnce). A slow handler (the delay switch)
 * makes them pile up: while one delivery waits, the prefetch's worth arrive and go
 * together as the next batch.
 */
describe('invoicing: deliveries handled in batches against a real broker and database', () => {
  let sut: ServiceUnderTest<RunningInvoicingService>;
  let issued: Spy;
  let replies: Spy;

  beforeAll(async () => {
    sut = await startServiceUnderTest(
      'invoicing',
      'invoicing-batches',
      (env) => start(readConfig(env)),
      { PREFETCH: '16' },
    );
    issued = await sut.broker.spy('invoicing.events', 'invoice.issued');
    replies = await sut.broker.spy('order.replies', 'InvoiceCreated');
  });

  afterAll(async () => {
    await sut?.teardown();
  });

  afterEach(async () => {
    await setFaults({});
  });

  const setFaults = async (faults: Record<string, unknown>) => {
    const response = await request(`${sut.url}/admin/faults`, { method: 'PUT', body: faults });
    expect(response.status).toBe(200);
  };

  const metric = async (name: string, labels: Record<string, string> = {}) =>
    sumOfSamples((await request(`${sut.url}/metrics`)).body as string, name, labels);

  /** Invoices per order of `orderIds`, counted by order (0 for none). */
  const invoicesPer = async (orderIds: string[]) => {
    const rows = await sut.db.query<{ order_id: string; n: string }>(
      `SELECT order_id, count(*) AS n FROM invoices WHERE order_id = ANY($1::uuid[]) GROUP BY order_id`,
      [orderIds],
    );
    return new Map(rows.map((row) => [row.order_id, Number(row.n)]));
  };

  /** Messages `spy` saw per order of `orderIds`. */
  const wirePer = (spy: Spy, orderIds: string[]) =>
    orderIds.map(
      (orderId) =>
        spy.messages.filter((m) => (m.body as { orderId?: string }).orderId === orderId).length,
    );

  const aCreateInvoice = () => {
    const { orderId, customerId, items, totalCents, currency } = aNewOrder();
    return { orderId, customerId, items, totalCents, currency };
  };

  test('when NewOrders pile up, then they are handled in batches and each order gets one invoice and one InvoiceIssued', async () => {
    const batchesBefore = await metric('message_batch_size_count', {
      queue: 'invoicing.new-order',
    });
    await setFaults({ handlerDelayMs: 200 });
    const orders = Array.from({ length: 40 }, () => aNewOrder());
    for (const order of orders) await sut.broker.publishMessage('NewOrder', order);
    // The same message twice, and a second message for an order: both inside the pile.
    const [twice, again] = orders;
    await sut.broker.publishMessage('NewOrder', twice!, { messageId: randomUUID() });
    await sut.broker.publishMessage('NewOrder', again!);
    const ids = orders.map((order) => order.orderId);

    await waitFor('every order to be invoiced', async () => (await invoicesPer(ids)).size === 40);
    await waitFor(
      'the queue to be empty',
      async () => (await sut.broker.depth('invoicing.new-order')) === 0,
    );
    await waitFor('every InvoiceIssued to be on the wire', () =>
      wirePer(issued, ids).every((n) => n >= 1),
    );

    expect(
      (await metric('message_batch_size_count', { queue: 'invoicing.new-order' })) - batchesBefore,
    ).toBeGreaterThan(0);
    expect([...(await invoicesPer(ids)).values()].every((n) => n === 1)).toBe(true);
    // Counted on the wire, where no unique index caps them.
    expect(wirePer(issued, ids)).toEqual(ids.map(() => 1));
  });

  test('when a command the handler refuses is in a batch, then it alone is parked and the others are invoiced and answered once', async () => {
    const fallbacksBefore = await metric('message_batch_fallbacks_total', {
      queue: 'invoicing.create-invoice',
    });
    await setFaults({ handlerDelayMs: 200 });
    const commands = Array.from({ length: 20 }, () => aCreateInvoice());
    const poison = aCreateInvoice();
    for (const [index, command] of commands.entries()) {
      await sut.broker.publishMessage('CreateInvoice', command, { replyTo: 'order.replies' });
      // A command without a reply address, in the middle of the pile: InvalidMessageError.
      if (index === 10) await sut.broker.publishMessage('CreateInvoice', poison);
    }
    const ids = commands.map((command) => command.orderId);

    const parked = await waitFor('the poison command to be parked', async () => {
      const messages = await sut.broker.drain('invoicing.create-invoice.dead');
      return messages.length > 0 ? messages : undefined;
    });
    await waitFor('every good command to be invoiced', async () => {
      return (await invoicesPer(ids)).size === 20;
    });
    await waitFor('every reply to be on the wire', () =>
      wirePer(replies, ids).every((n) => n >= 1),
    );

    expect(parked.map((m) => (m.body as { orderId: string }).orderId)).toEqual([poison.orderId]);
    expect((await invoicesPer([poison.orderId])).size).toBe(0);
    expect(wirePer(replies, ids)).toEqual(ids.map(() => 1));
    expect(
      (await metric('message_batch_fallbacks_total', { queue: 'invoicing.create-invoice' })) -
        fallbacksBefore,
    ).toBeGreaterThan(0);
  });
});
