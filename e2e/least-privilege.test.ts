import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import amqplib, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { Client } from 'pg';
import { BrokerPermissions, ObserverQueue, OrderHistory } from '@app/broker';
import { replayDeadLetters } from '@app/operations';
import { LOCAL_DEFAULTS, localDatabaseUrl } from '@app/runtime';
import {
  REPO_ROOT,
  TestBroker,
  aNewOrder,
  anOrderRequest,
  checkLedger,
  currentInfrastructure,
  request,
  startSystem,
  waitFor,
  type RunningSystem,
} from '@app/testing';

/** A channel of `url`'s user; resolves with the broker's reason when the channel is closed. */
async function channelOf(
  url: string,
): Promise<{ connection: ChannelModel; channel: ConfirmChannel; closed: Promise<string> }> {
  const connection = await amqplib.connect(url);
  connection.on('error', () => undefined);
  const channel = await connection.createConfirmChannel();
  const closed = new Promise<string>((resolve) => {
    channel.on('error', (err: Error) => resolve(err.message));
  });
  return { connection, channel, closed };
}

describe('least privilege on the broker: each service its own user', () => {
  let system: RunningSystem;
  let admin: TestBroker;

  beforeAll(async () => {
    system = await startSystem({ label: 'e2e_privilege', leastPrivilege: true });
    admin = await TestBroker.connect(system.vhost.url);
  });

  afterAll(async () => {
    await admin?.close();
    await system?.teardown();
  });

  test('when orders of both styles are placed, then they complete with every service on its own user, and none warns of a shared user', async () => {
    const { order } = system.services;

    const placed = await Promise.all(
      (['event', 'command'] as const).map((style) =>
        request(`${order.url}/orders`, { body: anOrderRequest({ style }) }),
      ),
    );

    const ids = placed.map((response) => response.body.id as string);
    await waitFor('both orders to complete', async () => {
      const states = await Promise.all(ids.map((id) => request(`${order.url}/orders/${id}`)));
      return states.every((state) => state.body.status === 'COMPLETED');
    });
    const ledger = await checkLedger(system, ids.slice(0, 1), 'event');
    expect(ledger.lost).toEqual([]);
    expect(ledger.doubled).toEqual([]);
    expect(ledger.miscounted).toEqual([]);
    for (const service of Object.values(system.services)) {
      expect(
        service.logs.filter((line) => String(line.msg).includes('shared broker user')),
      ).toEqual([]);
    }
  });

  test("when Shipping's user publishes to order.events, then the broker closes its channel with ACCESS_REFUSED", async () => {
    const { connection, channel, closed } = await channelOf(system.brokerUrls.shipping);

    channel.publish('order.events', 'order.new', Buffer.from(JSON.stringify(aNewOrder())), {
      type: 'NewOrder',
      appId: 'order',
      userId: 'shipping',
      messageId: randomUUID(),
      contentType: 'application/json',
    });

    expect(await closed).toMatch(/ACCESS_REFUSED/);
    await connection.close().catch(() => undefined);
  });

  test("when Shipping's user tries to consume Invoicing's queue, then it is refused with ACCESS_REFUSED", async () => {
    const { connection, channel, closed } = await channelOf(system.brokerUrls.shipping);

    await expect(channel.consume('invoicing.new-order', () => undefined)).rejects.toThrow(
      /ACCESS_REFUSED/,
    );

    expect(await closed).toMatch(/ACCESS_REFUSED/);
    await connection.close().catch(() => undefined);
  });

  test('when a message carries a forged userId, then the broker refuses it (PRECONDITION_FAILED)', async () => {
    const { connection, channel, closed } = await channelOf(system.brokerUrls.shipping);

    channel.publish('shipping.events', 'shipment.prepared', Buffer.from('{}'), {
      userId: 'order',
      type: 'ShipmentPrepared',
    });

    expect(await closed).toMatch(/PRECONDITION_FAILED.*user_id/i);
    await connection.close().catch(() => undefined);
  });

  test('when a NewOrder reaches order.events from a user other than Order, then each consumer parks it and nothing is processed', async () => {
    const order = aNewOrder();

    const messageId = await admin.publishMessage('NewOrder', order);

    for (const queue of ['invoicing.new-order', 'shipping.new-order', 'statistics.new-order']) {
      const parked = await waitFor(
        `the forged NewOrder to be parked in ${queue}.dead`,
        async () => {
          const messages = await admin.drain(`${queue}.dead`);
          return messages.find((m) => m.raw.properties.messageId === messageId);
        },
      );
      expect(parked.raw.properties.headers).toMatchObject({ 'x-dead-reason': 'invalid' });
      expect(String(parked.raw.properties.headers?.['x-last-error'])).toContain(
        `broker user ${admin.user}`,
      );
    }
    const invoices = await request(
      `${system.services.invoicing.url}/invoices?orderId=${order.orderId}`,
    );
    expect(invoices.body).toEqual([]);
  });
});

describe("least privilege on the broker: no way into another service's queues", () => {
  let system: RunningSystem;
  let admin: TestBroker;

  beforeAll(async () => {
    system = await startSystem({ label: 'e2e_refused', leastPrivilege: true });
    admin = await TestBroker.connect(system.vhost.url);
  });

  afterAll(async () => {
    await admin?.close();
    await system?.teardown();
  });

  /** Runs `attempt` on a fresh channel of `service`'s user; resolves with how the broker answered. */
  const attemptAs = async (
    service: keyof RunningSystem['brokerUrls'],
    attempt: (channel: ConfirmChannel) => unknown,
  ): Promise<string> => {
    const { connection, channel, closed } = await channelOf(system.brokerUrls[service]);
    try {
      // A refusal closes the channel; an allowed publish is confirmed (so a test that should
      // be refused fails at once instead of waiting for a close that never comes).
      const result = await Promise.race([
        Promise.resolve(attempt(channel)).then(
          () =>
            channel.waitForConfirms().then(
              () => 'accepted',
              () => closed,
            ),
          (err: Error) => err.message,
        ),
        closed,
      ]);
      return result;
    } finally {
      await connection.close().catch(() => undefined);
    }
  };

  const body = Buffer.from(JSON.stringify(aNewOrder()));

  test.each<[string, keyof RunningSystem['brokerUrls'], (channel: ConfirmChannel) => unknown]>([
    [
      "Shipping plants a message into Invoicing's dead-letter queue through the default exchange",
      'shipping',
      (channel) => channel.publish('', 'invoicing.new-order.dead', body, { userId: 'shipping' }),
    ],
    [
      "Shipping publishes into Invoicing's own dead exchange",
      'shipping',
      (channel) =>
        channel.publish('invoicing.dead', 'invoicing.new-order.dead', body, { userId: 'shipping' }),
    ],
    [
      "Shipping publishes into Invoicing's retry exchange (a retry queue, or the queue itself)",
      'shipping',
      (channel) =>
        channel.publish('invoicing.retry', 'invoicing.new-order', body, { userId: 'shipping' }),
    ],
    [
      "Invoicing, which may write the order.replies exchange, binds Order's reply queue to its own events",
      'invoicing',
      (channel) => channel.bindQueue('order.command-replies', 'invoicing.events', '#'),
    ],
    [
      "Order, which may write the invoicing.commands exchange, binds Invoicing's command queue to order.events",
      'order',
      (channel) => channel.bindQueue('invoicing.create-invoice', 'order.events', '#'),
    ],
    [
      'Shipping binds a queue of its own to invoicing.commands to read the commands',
      'shipping',
      async (channel) => {
        await channel.assertQueue('shipping.snoop', { exclusive: true });
        await channel.bindQueue('shipping.snoop', 'invoicing.commands', 'CreateInvoice');
      },
    ],
    [
      "Shipping declares a queue in Invoicing's name",
      'shipping',
      (channel) => channel.assertQueue('invoicing.sneaky', { durable: true }),
    ],
    [
      "Shipping deletes Invoicing's queue",
      'shipping',
      (channel) => channel.deleteQueue('invoicing.new-order'),
    ],
    [
      "Shipping purges Invoicing's dead letters",
      'shipping',
      (channel) => channel.purgeQueue('invoicing.new-order.dead'),
    ],
    [
      'Statistics, which publishes nothing, writes a reply to Order',
      'statistics',
      (channel) =>
        channel.publish('order.replies', 'InvoiceCreated', body, { userId: 'statistics' }),
    ],
    [
      'Payment sends Invoicing a command',
      'payment',
      (channel) =>
        channel.publish('invoicing.commands', 'CreateInvoice', body, { userId: 'payment' }),
    ],
    [
      "Invoicing consumes Order's reply queue",
      'invoicing',
      (channel) => channel.consume('order.command-replies', () => undefined),
    ],
    [
      "Statistics, which may read Order's history stream, publishes into it through the default exchange",
      'statistics',
      (channel) => channel.publish('', OrderHistory.name, body, { userId: 'statistics' }),
    ],
    [
      "Statistics deletes Order's history stream",
      'statistics',
      (channel) => channel.deleteQueue(OrderHistory.name),
    ],
    [
      "Statistics binds Order's history stream to its own retry exchange to write into it",
      'statistics',
      (channel) => channel.bindQueue(OrderHistory.name, 'statistics.retry', '#'),
    ],
  ])('when %s, then the broker refuses it (ACCESS_REFUSED)', async (_case, service, attempt) => {
    expect(await attemptAs(service, attempt)).toMatch(/ACCESS_REFUSED/);
  });

  test("when a subscriber's user reads Order's history stream from its first offset, then it gets what was published to order.events", async () => {
    const messageId = await admin.publishMessage('NewOrder', aNewOrder());
    const { connection, channel } = await channelOf(system.brokerUrls.statistics);
    try {
      await channel.prefetch(10);
      const seen = new Promise<string>((resolve) => {
        void channel.consume(
          OrderHistory.name,
          (delivery) => {
            if (!delivery) return;
            channel.ack(delivery);
            if (delivery.properties.messageId === messageId) resolve(messageId);
          },
          { arguments: { 'x-stream-offset': 'first' } },
        );
      });

      expect(await seen).toBe(messageId);
    } finally {
      await connection.close().catch(() => undefined);
    }
  });

  test('when Invoicing forges a ShipmentCreated with a shipping original-sender header and a foreign x-dead-queue, then Order parks it, and a replay as Order keeps Invoicing as the sender, sends it back to the reply queue, and parks it again', async () => {
    const { order } = system.services;
    // Without Payment the command-style order waits for its authorization: no real
    // ShipmentCreated can arrive, so a shipment id on the order could only be the forgery.
    await system.stop('payment');
    const placed = await request(`${order.url}/orders`, {
      body: anOrderRequest({ style: 'command' }),
    });
    const orderId: string = placed.body.id;
    const forger = await TestBroker.connect(system.brokerUrls.invoicing);
    const forgedShipmentId = randomUUID();
    const messageId = await forger.publishMessage(
      'ShipmentCreated',
      { shipmentId: forgedShipmentId, orderId },
      {
        appId: 'shipping',
        headers: { 'x-original-user-id': 'shipping', 'x-dead-queue': 'order.invoice-issued' },
      },
    );
    await forger.close();
    const parkedOnce = await waitFor('the forgery to be parked', async () =>
      (await admin.peek('order.command-replies.dead')).find(
        (m) => m.raw.properties.messageId === messageId,
      ),
    );
    expect(parkedOnce.raw.properties.headers?.['x-original-user-id']).toBe('invoicing');

    const { connection, channel } = await channelOf(system.brokerUrls.order);
    const replayed = await replayDeadLetters(channel, 'order.command-replies', {
      id: messageId,
      userId: 'order',
    });
    await connection.close();

    expect(replayed).toBe(1);
    const parkedAgain = await waitFor('the replayed forgery to be parked again', async () =>
      (await admin.drain('order.command-replies.dead')).find(
        (m) =>
          m.raw.properties.messageId === messageId &&
          Number(m.raw.properties.headers?.['x-replayed']) === 1,
      ),
    );
    expect(String(parkedAgain.raw.properties.headers?.['x-last-error'])).toMatch(
      /sent by broker user invoicing/,
    );
    expect(await admin.depth('order.invoice-issued.dead')).toBe(0);
    const after = await request(`${order.url}/orders/${orderId}`);
    expect(after.body).toMatchObject({ status: 'PLACED', shipmentId: null });
    await system.start('payment');
  });

  test('when a message without userId is parked, then a replay refuses it: its sender cannot be established', async () => {
    const messageId = randomUUID();
    await admin.publishRaw('order.events', 'order.new', body, {
      contentType: 'application/json',
      type: 'NewOrder',
      appId: 'order',
      messageId,
      persistent: true,
    });
    await waitFor('the message to be parked', async () =>
      (await admin.peek('invoicing.new-order.dead')).some(
        (m) => m.raw.properties.messageId === messageId,
      ),
    );
    const { connection, channel } = await channelOf(system.brokerUrls.invoicing);

    await expect(
      replayDeadLetters(channel, 'invoicing.new-order', { id: messageId, userId: 'invoicing' }),
    ).rejects.toThrow(/no sender the broker vouched for/);
    await connection.close().catch(() => undefined);
  });

  test('when infra/rabbitmq/definitions.json is read, then its permissions are exactly those in code', () => {
    const definitions = JSON.parse(
      readFileSync(path.join(REPO_ROOT, 'infra/rabbitmq/definitions.json'), 'utf8'),
    ) as { permissions: { user: string; configure: string; write: string; read: string }[] };
    const fromFile = Object.fromEntries(
      definitions.permissions.map(({ user, configure, write, read }) => [
        user,
        { configure, write, read },
      ]),
    );

    expect(fromFile).toEqual({
      ...BrokerPermissions,
      [ObserverQueue.user]: ObserverQueue.permissions,
    });
    for (const { write } of Object.values(BrokerPermissions)) expect(write).not.toMatch(/amq/);
  });
});

describe('production refuses what is fit only for a developer machine (the real service process)', () => {
  const startInProduction = (env: Record<string, string>) =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [path.join(REPO_ROOT, 'services/invoicing/dist/main.js')],
        {
          env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', PORT: '0', ...env },
        },
      );
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      });
    });

  test.each([
    [
      'the local default credentials',
      {
        RABBITMQ_URL: 'amqp://invoicing:invoicing-local-only@127.0.0.1:5672/messaging',
        DATABASE_URL: localDatabaseUrl('invoicing'),
      },
      /a local-only default password/,
    ],
    [
      'a broker user shared by every service',
      {
        RABBITMQ_URL: 'amqp://app:a-real-s3cret@127.0.0.1:5672/messaging',
        DATABASE_URL: 'postgresql://invoicing_service:a-real-s3cret@127.0.0.1:5432/invoicing',
      },
      /broker user app is not this service's own user invoicing/,
    ],
    [
      'fault switches without ALLOW_FAULT_SWITCHES',
      {
        RABBITMQ_URL: 'amqp://invoicing:a-real-s3cret@127.0.0.1:5672/messaging',
        DATABASE_URL: 'postgresql://invoicing_service:a-real-s3cret@127.0.0.1:5432/invoicing',
        FAULT_RELAY_PAUSED: 'true',
      },
      /fault switches are refused unless ALLOW_FAULT_SWITCHES=true/,
    ],
  ])(
    'when Invoicing starts in production with %s, then it refuses to start and says why',
    async (_case, env, why) => {
      const { code, output } = await startInProduction(env);

      expect(code).not.toBe(0);
      expect(output).toMatch(why);
    },
  );
});

describe('fault switches over HTTP', () => {
  let system: RunningSystem;

  afterEach(async () => {
    await system?.teardown();
  });

  test('when fault switches are not allowed, then PUT /admin/faults does not exist (404)', async () => {
    system = await startSystem({
      label: 'e2e_nofaults',
      services: ['statistics'],
      faultSwitches: false,
    });

    const response = await request(`${system.services.statistics.url}/admin/faults`, {
      method: 'PUT',
      body: { relayPaused: true },
    });

    expect(response.status).toBe(404);
  });

  test('when a token guards the fault switches, then a PUT without it is refused (401) and with it accepted', async () => {
    const token = 'workshop-token-0123456789';
    system = await startSystem({
      label: 'e2e_faulttoken',
      services: ['statistics'],
      env: { FAULT_SWITCHES_TOKEN: token },
    });
    const url = `${system.services.statistics.url}/admin/faults`;

    const without = await request(url, { method: 'PUT', body: { handlerDelayMs: 5 } });
    const withToken = await request(url, {
      method: 'PUT',
      body: { handlerDelayMs: 5 },
      headers: { authorization: `Bearer ${token}` },
    });

    expect(without.status).toBe(401);
    expect(withToken.status).toBe(200);
  });
});

describe('least privilege in Postgres: each service its own role (as `make setup` made them)', () => {
  const connectAs = async (service: string, database: string): Promise<string> => {
    const url = new URL(localDatabaseUrl(service));
    const admin = new URL(currentInfrastructure().postgresUrl);
    url.host = admin.host;
    url.pathname = `/${database}`;
    const client = new Client({ connectionString: url.toString(), connectionTimeoutMillis: 5_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return 'connected';
    } catch (err) {
      return (err as Error).message;
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  test("when Invoicing's role connects to Shipping's database, then Postgres refuses it, while its own database lets it in", async () => {
    expect(await connectAs('invoicing', 'invoicing')).toBe('connected');

    const refused = await connectAs('invoicing', 'shipping');

    expect(refused).toMatch(/permission denied for database "shipping"/);
    expect(LOCAL_DEFAULTS.databaseRole('invoicing')).toBe('invoicing_service');
  });

  test.each(['order', 'shipping', 'statistics', 'payment', 'postgres'])(
    'when another role connects to the %s database, then it is refused',
    async (database) => {
      const other = database === 'order' ? 'statistics' : 'order';

      expect(await connectAs(other, database)).toMatch(
        new RegExp(`permission denied for database "${database}"`),
      );
    },
  );

  test.each([
    ['drops its own table', 'DROP TABLE invoices', /must be owner of table invoices/],
    ['alters its own table', 'ALTER TABLE invoices ADD COLUMN sneaky text', /must be owner/],
    ['creates a table', 'CREATE TABLE sneaky (id int)', /permission denied for schema public/],
    ['truncates its own table', 'TRUNCATE invoices', /permission denied for table invoices/],
  ])(
    "when Invoicing's runtime role %s, then Postgres refuses it (only the owner role migrates)",
    async (_case, statement, refused) => {
      const url = new URL(localDatabaseUrl('invoicing'));
      url.host = new URL(currentInfrastructure().postgresUrl).host;
      const client = new Client({ connectionString: url.toString() });
      await client.connect();
      // In a transaction that is always rolled back: should the control ever be missing, the
      // statement that got through leaves nothing behind.
      await client.query('BEGIN');
      try {
        await expect(client.query(statement)).rejects.toThrow(refused);
      } finally {
        await client.query('ROLLBACK').catch(() => undefined);
        await client.end();
      }
      const reader = new Client({ connectionString: url.toString() });
      await reader.connect();
      await expect(reader.query('SELECT count(*) FROM invoices')).resolves.toBeDefined();
      await reader.end();
    },
  );
});
