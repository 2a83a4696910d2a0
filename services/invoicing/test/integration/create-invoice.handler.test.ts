import { randomUUID } from 'node:crypto';
import {
  aNewOrder,
  startServiceUnderTest,
  waitFor,
  type ServiceUnderTest,
  type Spy,
} from '@app/testing';
import { readConfig } from '../../src/config';
import { start, type RunningInvoicingService } from '../../src/main';

const aCreateInvoice = () => {
  const { orderId, customerId, items, totalCents, currency } = aNewOrder();
  return { orderId, customerId, items, totalCents, currency };
};

describe('invoicing: CreateInvoice command handler against a real broker and database', () => {
  let sut: ServiceUnderTest<RunningInvoicingService>;
  let replies: Spy;
  let events: Spy;

  beforeAll(async () => {
    sut = await startServiceUnderTest('invoicing', 'invoicing-commands', (env) =>
      start(readConfig(env)),
    );
    replies = await sut.broker.spy('order.replies', 'InvoiceCreated');
    events = await sut.broker.spy('invoicing.events', '#');
  });

  afterAll(async () => {
    await sut?.teardown();
  });

  const invoicesOf = (orderId: string) =>
    sut.db.query<{ id: string }>('SELECT id FROM invoices WHERE order_id = $1', [orderId]);
  const isFor = (orderId: string) => (m: { body: unknown }) =>
    (m.body as { orderId: string }).orderId === orderId;
  const parkedCommands = (what: string) =>
    waitFor(`${what} to be parked`, async () => {
      const messages = await sut.broker.drain('invoicing.create-invoice.dead');
      return messages.length > 0 ? messages : undefined;
    });

  test('when CreateInvoice arrives, then one invoice is stored and InvoiceCreated is replied to order.replies, with no event', async () => {
    const command = aCreateInvoice();

    const messageId = await sut.broker.publishMessage('CreateInvoice', command, {
      replyTo: 'order.replies',
    });

    const [reply] = await replies.waitForCount(1, isFor(command.orderId));
    const [invoice] = await invoicesOf(command.orderId);
    expect(reply?.body).toEqual({ invoiceId: invoice?.id, orderId: command.orderId });
    expect(reply?.raw.properties).toMatchObject({
      type: 'InvoiceCreated',
      appId: 'invoicing',
      correlationId: command.orderId,
    });
    expect(reply?.raw.properties.headers?.['x-causation-id']).toBe(messageId);
    expect(events.messages.filter(isFor(command.orderId))).toHaveLength(0);
  });

  test('when the same order is commanded twice, then one invoice exists and both commands are answered with it', async () => {
    const command = aCreateInvoice();

    await sut.broker.publishMessage('CreateInvoice', command, { replyTo: 'order.replies' });
    await sut.broker.publishMessage('CreateInvoice', command, { replyTo: 'order.replies' });

    const answers = await replies.waitForCount(2, isFor(command.orderId));
    const invoices = await invoicesOf(command.orderId);
    expect(invoices).toHaveLength(1);
    expect(answers.map((m) => (m.body as { invoiceId: string }).invoiceId)).toEqual([
      invoices[0]?.id,
      invoices[0]?.id,
    ]);
  });

  test('when the same CreateInvoice message is delivered twice, then it is handled and answered once', async () => {
    const command = aCreateInvoice();
    const messageId = randomUUID();

    await sut.broker.publishMessage('CreateInvoice', command, {
      replyTo: 'order.replies',
      messageId,
    });
    await sut.broker.publishMessage('CreateInvoice', command, {
      replyTo: 'order.replies',
      messageId,
    });

    await replies.waitForCount(1, isFor(command.orderId));
    await waitFor(
      'both deliveries to be handled',
      async () => (await sut.broker.depth('invoicing.create-invoice')) === 0,
    );
    await waitFor('the outbox to be empty', async () => {
      const [row] = await sut.db.query<{ n: string }>(
        'SELECT count(*) AS n FROM outbox_messages WHERE sent_at IS NULL',
      );
      return Number(row?.n) === 0;
    });
    expect(replies.messages.filter(isFor(command.orderId))).toHaveLength(1);
    expect(await invoicesOf(command.orderId)).toHaveLength(1);
  });

  test.each([
    ['no replyTo', {}, 'must carry replyTo order.replies, not none'],
    ['a replyTo other than order.replies', { replyTo: 'shipping.events' }, 'not "shipping.events"'],
  ])(
    'when a CreateInvoice with %s arrives, then it is parked unprocessed and the service keeps working',
    async (_case, overrides, reason) => {
      const bad = aCreateInvoice();
      const good = aCreateInvoice();

      await sut.broker.publishMessage('CreateInvoice', bad, overrides);
      await sut.broker.publishMessage('CreateInvoice', good, { replyTo: 'order.replies' });

      await replies.waitForCount(1, isFor(good.orderId));
      const parked = await parkedCommands('the bad command');
      expect(parked[0]?.raw.properties.headers).toMatchObject({
        'x-dead-reason': 'invalid',
        'x-dead-queue': 'invoicing.create-invoice',
      });
      expect(String(parked[0]?.raw.properties.headers?.['x-last-error'])).toContain(reason);
      expect(await invoicesOf(bad.orderId)).toHaveLength(0);
    },
  );

  test.each([
    ['a negative total', (c: ReturnType<typeof aCreateInvoice>) => ({ ...c, totalCents: -1 })],
    ['no items', (c: ReturnType<typeof aCreateInvoice>) => ({ ...c, items: [] })],
    [
      'a missing customer',
      (c: ReturnType<typeof aCreateInvoice>) => ({ ...c, customerId: undefined }),
    ],
  ])(
    'when a malformed CreateInvoice with %s arrives, then it is parked in invoicing.create-invoice.dead and never half-processed',
    async (_case, corrupt) => {
      const bad = corrupt(aCreateInvoice());
      const good = aCreateInvoice();

      await sut.broker.publishMessage('CreateInvoice', bad, { replyTo: 'order.replies' });
      await sut.broker.publishMessage('CreateInvoice', good, { replyTo: 'order.replies' });

      await replies.waitForCount(1, isFor(good.orderId));
      const parked = await parkedCommands('the malformed command');
      expect(parked[0]?.raw.properties.headers?.['x-last-error']).toMatch(
        /invalid CreateInvoice payload/,
      );
      expect(await invoicesOf(bad.orderId)).toHaveLength(0);
      const inbox = await sut.db.query('SELECT 1 FROM inbox_messages WHERE message_id = $1', [
        parked[0]?.raw.properties.messageId,
      ]);
      expect(inbox).toHaveLength(0);
    },
  );
});
