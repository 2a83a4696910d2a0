import { randomUUID } from 'node:crypto';
import amqplib, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { Client } from 'pg';
import { LOCAL_DEFAULTS, localDatabaseUrl } from '@app/runtime';
import {
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

  test.each(['order', 'shipping', 'statistics'])(
    'when another role connects to the %s database, then it is refused',
    async (database) => {
      const other = database === 'order' ? 'statistics' : 'order';

      expect(await connectAs(other, database)).toMatch(
        new RegExp(`permission denied for database "${database}"`),
      );
    },
  );
});
