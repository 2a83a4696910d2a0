import { randomUUID } from 'node:crypto';
import { Pool, type PoolClient } from 'pg';
import { Registry } from 'prom-client';
import type { NewOrder } from '@app/contracts';
import { createLogger } from '@app/runtime';
import {
  TestBroker,
  aNewOrder,
  createTestDatabase,
  createTestVhost,
  waitFor,
  type ReceivedMessage,
  type Spy,
  type TestDatabase,
  type TestVhost,
} from '@app/testing';
import {
  buildMessage,
  on,
  type IncomingMessage,
  type OutgoingMessage,
  type Subscription,
} from '@app/broker';
import {
  OutboxRelay,
  addToOutbox,
  writeManyOnce,
  writeOnce,
  type OutboxHandoff,
  type SqlClient,
} from '@app/store';
import { Messaging, type MessagingOptions } from '../../src';

/** What a test passes to build a Messaging and start it. */
type TestMessagingOptions = Partial<MessagingOptions> &
  Pick<MessagingOptions, 'db'> & {
    subscriptions?: Subscription[];
    onReturned?: (message: OutgoingMessage) => Promise<void>;
  };

const QUEUE = 'test.new-order';

/**
 * The outbox and inbox need only `SqlClient`, which is structural: a plain pg client on a
 * real test database stands in for a service's Prisma client.
 */
function sqlClientOf(db: Pool | PoolClient): SqlClient {
  return {
    $executeRawUnsafe: async (query: string, ...values: unknown[]) =>
      (await db.query(query, values)).rowCount ?? 0,
    $queryRawUnsafe: async <T>(query: string, ...values: unknown[]) =>
      (await db.query(query, values)).rows as T,
  };
}

async function inTransaction(pool: Pool, work: (tx: SqlClient) => Promise<void>): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await work(sqlClientOf(client));
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

/** The value of one labelled series of a counter in `registry`. */
async function counter(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  const series = metric?.values.find((v) =>
    Object.entries(labels).every(([k, value]) => v.labels[k] === value),
  );
  return series?.value ?? 0;
}

/** A handler whose behaviour each test sets per order, recording every call it gets. */
class ControlledHandler {
  readonly calls: { orderId: string; attempt: number; messageId: string }[] = [];
  readonly processed: string[] = [];
  private readonly behaviour = new Map<
    string,
    (message: IncomingMessage<NewOrder>) => Promise<void> | void
  >();

  behaveFor(
    orderId: string,
    behaviour: (message: IncomingMessage<NewOrder>) => Promise<void> | void,
  ): void {
    this.behaviour.set(orderId, behaviour);
  }

  subscription(queue: string): Subscription {
    return {
      queue,
      handlers: [
        on('NewOrder', async (message) => {
          const { orderId } = message.payload;
          this.calls.push({
            orderId,
            attempt: message.attempt,
            messageId: message.envelope.messageId,
          });
          await this.behaviour.get(orderId)?.(message);
          this.processed.push(orderId);
        }),
      ],
    };
  }

  attemptsOf(orderId: string): number[] {
    return this.calls.filter((c) => c.orderId === orderId).map((c) => c.attempt);
  }
}

describe('messaging against a real broker and database', () => {
  let vhost: TestVhost;
  let db: TestDatabase;
  let pool: Pool;
  let broker: TestBroker;
  let orderEvents: Spy;
  const started: Messaging[] = [];

  const unsent = async (database: TestDatabase, messageIds: string[]) =>
    database.query<{ message_id: string }>(
      'SELECT message_id FROM outbox_messages WHERE message_id = ANY($1::uuid[]) AND sent_at IS NULL',
      [messageIds],
    );

  /** A Messaging instance as a service would build it, on this file's vhost; stopped after all tests. */
  function messagingWith(options: TestMessagingOptions): Messaging & { start(): void } {
    const { subscriptions = [], onReturned, ...rest } = options;
    const messaging = new Messaging({
      service: 'order',
      url: vhost.url,
      logger: createLogger('test', 'silent'),
      registry: new Registry(),
      outbox: false,
      retryDelaysMs: [50, 100],
      ...rest,
    });
    started.push(messaging);
    const start = messaging.start.bind(messaging);
    return Object.assign(messaging, { start: () => start(subscriptions, onReturned) });
  }

  /** `messagingWith`, started, once connected and consuming its queues. */
  async function readyMessagingWith(options: TestMessagingOptions): Promise<Messaging> {
    const messaging = messagingWith(options);
    messaging.start();
    await waitFor('messaging to be ready', () => messaging.problem() === undefined);
    return messaging;
  }

  /** Drains `queue` until the message with `messageId` is among what it took. */
  const parkedIn = (queue: string, messageId: string) =>
    waitFor(`message ${messageId} to be parked in ${queue}`, async () =>
      (await broker.drain(queue)).find((m) => m.raw.properties.messageId === messageId),
    );

  beforeAll(async () => {
    vhost = await createTestVhost('messaging');
    db = await createTestDatabase('invoicing', 'messaging');
    pool = new Pool({ connectionString: db.url, max: 5 });
    broker = await TestBroker.connect(vhost.url);
    await broker.declareExchanges();
    orderEvents = await broker.spy('order.events');
  });

  afterAll(async () => {
    for (const messaging of started) await messaging.stop().catch(() => undefined);
    await pool?.end();
    await broker?.close();
    await db?.drop();
    await vhost?.delete();
  });

  describe('consumer', () => {
    const handler = new ControlledHandler();
    let registry: Registry;

    beforeAll(async () => {
      registry = new Registry();
      await readyMessagingWith({
        db: sqlClientOf(pool),
        registry,
        subscriptions: [handler.subscription(QUEUE)],
      });
    });

    const consumed = (outcome: string) =>
      counter(registry, 'messages_consumed_total', { queue: QUEUE, outcome });

    test('when a handler fails twice and then succeeds, then the message is processed on attempt 3 after both retry queues', async () => {
      const order = aNewOrder();
      handler.behaveFor(order.orderId, ({ attempt }) => {
        if (attempt < 3) throw new Error(`transient failure on attempt ${attempt}`);
      });
      const retriedBefore = await consumed('retried');
      const processedBefore = await consumed('processed');

      await broker.publishMessage('NewOrder', order);

      await waitFor('the order to be processed', () => handler.processed.includes(order.orderId));
      expect(handler.attemptsOf(order.orderId)).toEqual([1, 2, 3]);
      expect(await consumed('retried')).toBe(retriedBefore + 2);
      expect(await consumed('processed')).toBe(processedBefore + 1);
      expect(await broker.depth(`${QUEUE}.retry.50ms`)).toBe(0);
      expect(await broker.depth(`${QUEUE}.retry.100ms`)).toBe(0);
      expect(await broker.depth(`${QUEUE}.dead`)).toBe(0);
    });

    test('when a handler always fails, then the message is parked in .dead after the last retry with why, and its properties kept', async () => {
      const order = aNewOrder();
      handler.behaveFor(order.orderId, ({ attempt }) => {
        throw new Error(`database exploded on attempt ${attempt}`);
      });
      const messageId = randomUUID();
      const traceparent = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;

      await broker.publishMessage('NewOrder', order, {
        messageId,
        userId: 'guest',
        headers: { traceparent },
      });

      const parked = await parkedIn(`${QUEUE}.dead`, messageId);
      expect(handler.attemptsOf(order.orderId)).toEqual([1, 2, 3]);
      expect(handler.processed).not.toContain(order.orderId);
      expect(parked.body).toEqual(order);
      expect(parked.raw.properties).toMatchObject({
        messageId,
        type: 'NewOrder',
        correlationId: order.orderId,
        appId: 'order',
        contentType: 'application/json',
        deliveryMode: 2,
      });
      const headers = parked.raw.properties.headers ?? {};
      expect(headers).toMatchObject({
        'x-dead-reason': 'failed',
        'x-retry-attempt': 3,
        'x-dead-queue': QUEUE,
        'x-original-user-id': 'guest',
        traceparent,
      });
      expect(String(headers['x-last-error'])).toContain('database exploded on attempt 3');
      expect(new Date(String(headers['x-dead-at'])).toString()).not.toBe('Invalid Date');
      // The broker records each TTL expiry; it shows the message went through both retry queues.
      const deaths = (headers['x-death'] as { queue: string; reason: string }[]).map(
        (d) => `${d.queue}:${d.reason}`,
      );
      expect(deaths).toEqual(
        expect.arrayContaining([`${QUEUE}.retry.50ms:expired`, `${QUEUE}.retry.100ms:expired`]),
      );
    });

    test('when a message is parked, then the next message on the queue is still processed', async () => {
      const failing = aNewOrder();
      const healthy = aNewOrder();
      handler.behaveFor(failing.orderId, () => {
        throw new Error('always');
      });

      const failingId = await broker.publishMessage('NewOrder', failing);
      await broker.publishMessage('NewOrder', healthy);

      await waitFor('the healthy order to be processed', () =>
        handler.processed.includes(healthy.orderId),
      );
      const parked = await parkedIn(`${QUEUE}.dead`, failingId);
      expect(parked.body).toMatchObject({ orderId: failing.orderId });
      expect(handler.attemptsOf(healthy.orderId)).toEqual([1]);
    });

    test('when a NewOrder was published before a subscriber queue existed, then that subscriber never receives it (publishers and consumers are decoupled)', async () => {
      const early = aNewOrder();
      const late = aNewOrder();
      const lateSubscriber = new ControlledHandler();
      await broker.publishMessage('NewOrder', early);

      const subscriber = messagingWith({
        db: sqlClientOf(pool),
        subscriptions: [lateSubscriber.subscription('test.late-subscriber')],
      });
      subscriber.start();
      await waitFor(
        'the late subscriber to be consuming',
        () => subscriber.problem() === undefined,
      );
      await broker.publishMessage('NewOrder', late);

      // The queue is FIFO: had the early message been routed to it, it would have come first.
      await waitFor('the late order to reach the late subscriber', () =>
        lateSubscriber.processed.includes(late.orderId),
      );
      expect(lateSubscriber.calls.map((c) => c.orderId)).toEqual([late.orderId]);
      await waitFor('the existing subscriber to get both', () =>
        [early.orderId, late.orderId].every((id) => handler.processed.includes(id)),
      );
    });
  });

  describe('outbox relay', () => {
    const returned: OutgoingMessage[] = [];
    let messaging: Messaging;
    let registry: Registry;
    /** The relay's database client: Messaging gives it the relay, which a commit of the test's own wakes. */
    let relayDb: SqlClient;

    beforeAll(async () => {
      registry = new Registry();
      relayDb = sqlClientOf(pool);
      messaging = await readyMessagingWith({
        db: relayDb,
        registry,
        outbox: true,
        onReturned: async (message) => {
          returned.push(message);
        },
      });
    });

    const published = (type: string, outcome: string) =>
      counter(registry, 'messages_published_total', { type, outcome });

    test('when a message is written with addToOutbox, then the relay publishes it with confirms and marks it sent', async () => {
      const order = aNewOrder();
      const message = buildMessage('NewOrder', order, 'order', { correlationId: order.orderId });
      const confirmedBefore = await published('NewOrder', 'confirmed');

      await inTransaction(pool, (tx) => addToOutbox(tx, message));
      relayDb.outbox?.wake();

      const [received] = await orderEvents.waitForCount(
        1,
        (m) => m.raw.properties.messageId === message.messageId,
      );
      expect(received?.body).toEqual(order);
      expect(received?.raw.fields).toMatchObject({
        exchange: 'order.events',
        routingKey: 'order.new',
      });
      expect(received?.raw.properties).toMatchObject({
        messageId: message.messageId,
        type: 'NewOrder',
        correlationId: order.orderId,
        appId: 'order',
        userId: 'guest',
        contentType: 'application/json',
        deliveryMode: 2,
      });
      expect(received?.raw.properties.headers?.traceparent).toBe(message.properties.traceparent);
      await waitFor(
        'the row to be marked sent',
        async () => (await unsent(db, [message.messageId])).length === 0,
      );
      const [row] = await db.query<{ attempts: number; last_error: string | null }>(
        'SELECT attempts, last_error FROM outbox_messages WHERE message_id = $1',
        [message.messageId],
      );
      expect(row).toEqual({ attempts: 1, last_error: null });
      expect(await published('NewOrder', 'confirmed')).toBe(confirmedBefore + 1);
    });

    test('when outbox rows were committed while no relay ran (a crash between commit and publish), then they are published once a relay starts', async () => {
      const other = await createTestDatabase('invoicing', 'relay_restart');
      const otherPool = new Pool({ connectionString: other.url, max: 3 });
      try {
        const orders = [aNewOrder(), aNewOrder(), aNewOrder()];
        const messages = orders.map((order) =>
          buildMessage('NewOrder', order, 'order', { correlationId: order.orderId }),
        );
        const ids = messages.map((m) => m.messageId);
        await inTransaction(otherPool, async (tx) => {
          for (const message of messages) await addToOutbox(tx, message);
        });
        expect(await unsent(other, ids)).toHaveLength(3);

        const restarted = messagingWith({ db: sqlClientOf(otherPool), outbox: true });
        restarted.start();

        await orderEvents.waitForCount(3, (m) => ids.includes(String(m.raw.properties.messageId)));
        await waitFor(
          'every row to be marked sent',
          async () => (await unsent(other, ids)).length === 0,
        );
        const rows = await other.query<{ attempts: number }>(
          'SELECT attempts FROM outbox_messages',
        );
        expect(rows.map((r) => r.attempts)).toEqual([1, 1, 1]);
        await restarted.stop();
      } finally {
        await otherPool.end();
        await other.drop();
      }
    });

    test('when commits keep waking the relay, then each row is claimed and published once and every row ends marked sent (marks ride along with the next claim)', async () => {
      const messages = Array.from({ length: 200 }, () => {
        const order = aNewOrder();
        return buildMessage('NewOrder', order, 'order', { correlationId: order.orderId });
      });
      const ids = messages.map((m) => m.messageId);

      // One commit and one wake-up per row, as under load: the relay is woken while busy.
      await Promise.all(
        messages.map(async (message) => {
          await inTransaction(pool, (tx) => addToOutbox(tx, message));
          relayDb.outbox?.wake();
        }),
      );

      const received = await orderEvents.waitForCount(200, (m) =>
        ids.includes(String(m.raw.properties.messageId)),
      );
      await waitFor(
        'every row to be marked sent',
        async () => (await unsent(db, ids)).length === 0,
      );
      const rows = await db.query<{ attempts: number; n: string }>(
        'SELECT attempts, count(*) AS n FROM outbox_messages WHERE message_id = ANY($1::uuid[]) GROUP BY attempts',
        [ids],
      );
      expect(rows).toEqual([{ attempts: 1, n: '200' }]);
      expect(received).toHaveLength(200);
    });

    test('when a store write commits messages, then they are handed to the relay and published at once, with no wake-up and no poll', async () => {
      // The poll comes round once at start and then not for ten minutes: only the hand-over
      // can publish these rows within the test.
      const client = sqlClientOf(pool);
      await readyMessagingWith({ db: client, outbox: true, outboxPollIntervalMs: 600_000 });
      const orders = [aNewOrder(), aNewOrder()];
      const messages = orders.map((order) =>
        buildMessage('NewOrder', order, 'order', { correlationId: order.orderId }),
      );
      const ids = messages.map((m) => m.messageId);

      await writeManyOnce(
        client,
        orders.map((order, index) => ({
          change: {
            sql: `INSERT INTO cancelled_orders (order_id, reason, cancelled_at) VALUES ($1::uuid, 'test', now())`,
            values: [order.orderId],
          },
          inbox: undefined,
          messages: messages.slice(index, index + 1),
        })),
      );

      const received = await orderEvents.waitForCount(2, (m) =>
        ids.includes(String(m.raw.properties.messageId)),
      );
      expect(received.map((m) => m.raw.properties.messageId).sort()).toEqual([...ids].sort());
      await waitFor('the rows to be marked sent', async () => (await unsent(db, ids)).length === 0);
      const rows = await db.query<{ attempts: number; locked_until: Date | null }>(
        'SELECT attempts, locked_until FROM outbox_messages WHERE message_id = ANY($1::uuid[])',
        [ids],
      );
      expect(rows).toEqual([
        { attempts: 1, locked_until: null },
        { attempts: 1, locked_until: null },
      ]);
    });

    test('when rows were written leased for a relay that died before publishing them, then no claim takes them while the lease lasts, and one claim does after: each is published once', async () => {
      const order = aNewOrder();
      const message = buildMessage('NewOrder', order, 'order', { correlationId: order.orderId });
      // The writer's relay gives a lease and dies before it publishes what it is handed.
      const died: OutboxHandoff = {
        lease: () => 60_000,
        take: () => undefined,
        wake: () => undefined,
      };
      await writeOnce(
        { ...sqlClientOf(pool), outbox: died },
        {
          sql: `INSERT INTO cancelled_orders (order_id, reason, cancelled_at) VALUES ($1::uuid, 'test', now())`,
          values: [order.orderId],
        },
        undefined,
        [message],
      );
      // Another relay of the same outbox, claiming by hand.
      const other = new OutboxRelay({
        db: sqlClientOf(pool),
        publisher: messaging.publisher,
        logger: createLogger('test', 'silent'),
        isConnected: () => true,
      });
      const fromThisOrder = (m: ReceivedMessage) =>
        m.raw.properties.messageId === message.messageId;

      expect(await other.publishBatch()).toBe(0);

      // The lease runs out.
      await db.query(
        `UPDATE outbox_messages SET locked_until = now() - interval '1 second' WHERE message_id = $1`,
        [message.messageId],
      );
      expect(await other.publishBatch()).toBe(1);
      await orderEvents.waitForCount(1, fromThisOrder);
      expect(await other.publishBatch()).toBe(0); // carries the mark
      expect(await unsent(db, [message.messageId])).toEqual([]);
      const [row] = await db.query<{ attempts: number }>(
        'SELECT attempts FROM outbox_messages WHERE message_id = $1',
        [message.messageId],
      );
      expect(row?.attempts).toBe(2);
      expect(orderEvents.messages.filter(fromThisOrder)).toHaveLength(1);
    });

    test('when a command has no queue bound to receive it, then the broker returns it and onReturned is told', async () => {
      const order = aNewOrder();
      const command = buildMessage(
        'CreateInvoice',
        {
          orderId: order.orderId,
          customerId: order.customerId,
          items: order.items,
          totalCents: order.totalCents,
          currency: order.currency,
        },
        'order',
        { correlationId: order.orderId, replyTo: 'order.replies' },
      );
      const returnedBefore = await published('CreateInvoice', 'returned');

      await inTransaction(pool, (tx) => addToOutbox(tx, command));
      relayDb.outbox?.wake();

      const back = await waitFor('the command to be returned', () =>
        returned.find((m) => m.messageId === command.messageId),
      );
      expect(back).toMatchObject({
        type: 'CreateInvoice',
        exchange: 'invoicing.commands',
        routingKey: 'CreateInvoice',
        payload: { orderId: order.orderId },
      });
      expect(await published('CreateInvoice', 'returned')).toBe(returnedBefore + 1);
      await waitFor(
        'the row to be settled',
        async () => (await unsent(db, [command.messageId])).length === 0,
      );
    });
  });

  describe('lifecycle', () => {
    test('when Messaging is created, then problem() names what is missing until its queues are consumed, and is undefined after', async () => {
      const messaging = messagingWith({
        db: sqlClientOf(pool),
        subscriptions: [new ControlledHandler().subscription('test.readiness')],
      });

      expect(messaging.problem()).toEqual(expect.any(String));

      await waitFor('the consumer to be ready', () => messaging.problem() === undefined);
      expect(messaging.connection.isConnected()).toBe(true);
    });

    test('when Messaging is stopped, then stop() resolves, the connection is closed and its queue is no longer consumed', async () => {
      const handler = new ControlledHandler();
      const messaging = await readyMessagingWith({
        db: sqlClientOf(pool),
        subscriptions: [handler.subscription('test.stopping')],
        outbox: true,
      });

      await expect(messaging.stop()).resolves.toBeUndefined();

      expect(messaging.connection.isConnected()).toBe(false);
      expect(messaging.problem()).toEqual(expect.any(String));
      const order = aNewOrder();
      await broker.publishMessage('NewOrder', order);
      await waitFor(
        'the message to wait in the queue',
        async () => (await broker.depth('test.stopping')) === 1,
      );
      expect(handler.processed).not.toContain(order.orderId);
    });
  });
});
