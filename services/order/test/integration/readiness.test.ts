import { randomBytes } from 'node:crypto';
import {
  TestBroker,
  anOrderRequest,
  createTestDatabase,
  createTestVhost,
  request,
  waitFor,
  type Spy,
  type TestDatabase,
  type TestVhost,
} from '@app/testing';
import { readConfig } from '../../src/config';
import { start, type RunningOrderService } from '../../src/main';
import { countRows } from './count-rows';

/** Nothing listens on port 1, so every connection attempt is refused at once. */
const UNREACHABLE_BROKER = 'amqp://guest:guest@127.0.0.1:1';

describe('order: readiness and buffering while a dependency is down', () => {
  let vhost: TestVhost;
  let db: TestDatabase;
  let broker: TestBroker;
  let newOrders: Spy;
  const services: RunningOrderService[] = [];

  const startOrder = async (env: Record<string, string>): Promise<string> => {
    const service = await start(
      readConfig({
        PORT: '0',
        LOG_LEVEL: 'silent',
        RETRY_DELAYS_MS: '50,100',
        OUTBOX_POLL_INTERVAL_MS: '100',
        ...env,
      }),
    );
    services.push(service);
    return `http://127.0.0.1:${service.port}`;
  };

  beforeAll(async () => {
    vhost = await createTestVhost('order-readiness');
    db = await createTestDatabase('order', 'order-readiness');
    broker = await TestBroker.connect(vhost.url);
    await broker.declareExchanges();
    newOrders = await broker.spy('order.events', 'order.new');
  });

  afterAll(async () => {
    await Promise.allSettled(services.map((service) => service.stop()));
    await broker?.close();
    await db?.drop();
    await vhost?.delete();
  });

  const unsentFor = (orderId: string) =>
    countRows(db, `outbox_messages WHERE payload->>'orderId' = $1 AND sent_at IS NULL`, [orderId]);

  describe('broker unreachable', () => {
    let url: string;

    beforeAll(async () => {
      url = await startOrder({ DATABASE_URL: db.url, RABBITMQ_URL: UNREACHABLE_BROKER });
    });

    test('when the broker is unreachable, then /health/live answers 200', async () => {
      const response = await request(`${url}/health/live`);

      expect(response.status).toBe(200);
    });

    test('when the broker is unreachable, then /health/ready answers 503 naming the broker as down and the database as up', async () => {
      const response = await request(`${url}/health/ready`);

      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toContain('application/json');
      expect(response.body.checks).toMatchObject({
        broker: expect.stringMatching(/^down/),
        database: 'up',
      });
    });

    test('when the broker is unreachable, then POST /orders is accepted and its NewOrder waits in the outbox until a connected instance publishes it', async () => {
      const placed = await request(`${url}/orders`, { body: anOrderRequest() });

      expect(placed.status).toBe(202);
      const orderId = placed.body.id as string;
      expect(await unsentFor(orderId)).toBe(1);
      expect(
        newOrders.messages.filter((m) => (m.body as { orderId: string }).orderId === orderId),
      ).toHaveLength(0);

      const connectedUrl = await startOrder({ DATABASE_URL: db.url, RABBITMQ_URL: vhost.url });
      await waitFor(
        'the connected instance to be ready',
        async () => (await request(`${connectedUrl}/health/ready`)).status === 200,
      );

      const [message] = await newOrders.waitForCount(
        1,
        (m) => (m.body as { orderId: string }).orderId === orderId,
      );
      expect(message?.raw.properties).toMatchObject({
        type: 'NewOrder',
        correlationId: orderId,
        appId: 'order',
      });
      await waitFor(
        'the outbox row to be marked sent',
        async () => (await unsentFor(orderId)) === 0,
      );
      expect((await request(`${connectedUrl}/orders/${orderId}`)).body).toMatchObject({
        id: orderId,
        status: 'PLACED',
      });
    });
  });

  describe('database missing', () => {
    let url: string;
    let missingDatabase: string;

    beforeAll(async () => {
      missingDatabase = `test_missing_${randomBytes(4).toString('hex')}`;
      const missingUrl = new URL(db.url);
      missingUrl.pathname = `/${missingDatabase}`;
      url = await startOrder({ DATABASE_URL: missingUrl.toString(), RABBITMQ_URL: vhost.url });
    });

    test('when the database does not exist, then /health/live answers 200', async () => {
      const response = await request(`${url}/health/live`);

      expect(response.status).toBe(200);
    });

    test('when the database does not exist, then /health/ready answers 503 naming the database as down', async () => {
      const response = await request(`${url}/health/ready`);

      expect(response.status).toBe(503);
      expect(response.body.checks).toMatchObject({ database: expect.stringMatching(/^down/) });
    });

    test('when the database does not exist, then POST /orders answers 500 problem+json INTERNAL without internal details', async () => {
      const response = await request(`${url}/orders`, { body: anOrderRequest() });

      expect(response.status).toBe(500);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body).toMatchObject({
        status: 500,
        code: 'INTERNAL',
        detail: expect.any(String),
      });
      const text = JSON.stringify(response.body);
      expect(text).not.toContain(missingDatabase);
      expect(text).not.toMatch(/prisma|postgres|ECONNREFUSED|does not exist|\.ts:\d|\bat \S+ \(/i);
    });
  });
});
