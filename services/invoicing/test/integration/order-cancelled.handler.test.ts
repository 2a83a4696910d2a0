import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { OrderCancelled } from '@app/contracts';
import {
  aNewOrder,
  request,
  startServiceUnderTest,
  waitFor,
  type ServiceUnderTest,
  type Spy,
  type TestBroker,
  type TestDatabase,
} from '@app/testing';
import { readConfig } from '../../src/config';
import { start, type RunningInvoicingService } from '../../src/main';

const anOrderCancelled = (orderId: string, overrides: Partial<OrderCancelled> = {}) => ({
  orderId,
  reason: 'card_declined',
  cancelledAt: new Date().toISOString(),
  ...overrides,
});

describe('invoicing: OrderCancelled handler (compensation) against a real broker and database', () => {
  let sut: ServiceUnderTest<RunningInvoicingService>;
  let db: TestDatabase;
  let broker: TestBroker;
  let issued: Spy;
  let url: string;

  beforeAll(async () => {
    sut = await startServiceUnderTest('invoicing', 'invoicing-cancel', (env) =>
      start(readConfig(env)),
    );
    ({ db, broker, url } = sut);
    issued = await broker.spy('invoicing.events', 'invoice.issued');
  });

  afterAll(async () => {
    await sut?.teardown();
  });

  const invoicesOf = async (orderId: string) =>
    (await request(`${url}/invoices?orderId=${orderId}`)).body as { id: string; status: string }[];

  const isHandled = async (messageId: string) =>
    (await db.query('SELECT 1 FROM inbox_messages WHERE message_id = $1', [messageId])).length ===
    1;
  const handled = (messageId: string) =>
    waitFor(`message ${messageId} to be handled`, () => isHandled(messageId));

  /** Statements of the service waiting for a lock. */
  const waiting = async () =>
    Number(
      (
        await db.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        )
      )[0]?.n,
    );

  /** The consumer's own count of deliveries by outcome, read from /metrics. */
  const consumed = async (queue: string, outcome: string): Promise<number> => {
    const text = (await request(`${url}/metrics`)).body as string;
    const line = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('messages_consumed_total{') &&
          l.includes(`queue="${queue}"`) &&
          l.includes(`outcome="${outcome}"`),
      );
    return line ? Number(line.split(' ').pop()) : 0;
  };

  const isFor = (orderId: string) => (m: { body: unknown }) =>
    (m.body as { orderId: string }).orderId === orderId;

  test('when OrderCancelled follows the NewOrder, then its issued invoice is voided', async () => {
    const order = aNewOrder();
    await broker.publishMessage('NewOrder', order);
    await issued.waitForCount(1, isFor(order.orderId));

    await broker.publishMessage('OrderCancelled', anOrderCancelled(order.orderId));

    const [invoice] = await waitFor('the invoice to be voided', async () => {
      const invoices = await invoicesOf(order.orderId);
      return invoices[0]?.status === 'VOIDED' ? invoices : undefined;
    });
    expect(invoice).toMatchObject({ orderId: order.orderId, status: 'VOIDED' });
    const one = await request(`${url}/invoices/${invoice?.id}`);
    expect(one.body).toMatchObject({ status: 'VOIDED' });
  });

  test('when OrderCancelled arrives before its NewOrder, then no invoice is issued and nothing is announced', async () => {
    const order = aNewOrder();

    const cancelled = await broker.publishMessage(
      'OrderCancelled',
      anOrderCancelled(order.orderId),
    );
    await handled(cancelled);
    const placed = await broker.publishMessage('NewOrder', order);
    await handled(placed);

    expect(await invoicesOf(order.orderId)).toEqual([]);
    const other = aNewOrder();
    await broker.publishMessage('NewOrder', other);
    await issued.waitForCount(1, isFor(other.orderId));
    expect(issued.messages.filter(isFor(order.orderId))).toHaveLength(0);
  });

  test.each([
    ['the same message', () => 'same'],
    ['a new message id', () => randomUUID()],
  ])(
    'when OrderCancelled is delivered twice as %s, then the invoice is voided once and the second changes nothing',
    async (_case, secondId) => {
      const queue = 'invoicing.order-cancelled';
      const order = aNewOrder();
      await broker.publishMessage('NewOrder', order);
      await issued.waitForCount(1, isFor(order.orderId));
      const processedBefore = await consumed(queue, 'processed');
      const duplicatesBefore = await consumed(queue, 'duplicate');
      const first = randomUUID();
      const second = secondId() === 'same' ? first : randomUUID();

      await broker.publishMessage('OrderCancelled', anOrderCancelled(order.orderId), {
        messageId: first,
      });
      await broker.publishMessage('OrderCancelled', anOrderCancelled(order.orderId), {
        messageId: second,
      });

      await waitFor(
        'the second delivery to be recognised as changing nothing',
        async () => (await consumed(queue, 'duplicate')) === duplicatesBefore + 1,
      );
      expect(await consumed(queue, 'processed')).toBe(processedBefore + 1);
      expect(await broker.depth(`${queue}.dead`)).toBe(0);
      expect(await invoicesOf(order.orderId)).toEqual([
        expect.objectContaining({ status: 'VOIDED' }),
      ]);
    },
  );

  test('when OrderCancelled is handled while its NewOrder is being written, then the invoice still ends voided', async () => {
    const order = aNewOrder();
    // A transaction of the test's own claims the order's invoice key, so the NewOrder's
    // insert waits, after it looked for a cancellation and before it commits: the moment
    // at which a concurrent OrderCancelled would find neither tombstone nor invoice.
    const blocker = new Client({ connectionString: db.url });
    await blocker.connect();
    let cancelled = '';
    try {
      await blocker.query('BEGIN');
      await blocker.query(
        `INSERT INTO invoices (id, order_id, customer_id, total_cents, currency, status)
         VALUES ($1, $2, 'test-blocker', 0, 'EUR', 'ISSUED')`,
        [randomUUID(), order.orderId],
      );
      const placed = await broker.publishMessage('NewOrder', order);
      await waitFor('the NewOrder to wait for the blocker', async () => (await waiting()) === 1);
      cancelled = await broker.publishMessage('OrderCancelled', anOrderCancelled(order.orderId));
      await waitFor(
        'the OrderCancelled to wait for the NewOrder, or to be done',
        async () => (await waiting()) === 2 || (await isHandled(cancelled)),
      );
      await blocker.query('ROLLBACK');
      await handled(placed);
    } finally {
      await blocker.end();
    }
    await handled(cancelled);

    expect(await invoicesOf(order.orderId)).toEqual([
      expect.objectContaining({ status: 'VOIDED' }),
    ]);
  });
});
