import { randomUUID } from 'node:crypto';
import http from 'node:http';
import {
  anOrderRequest,
  request,
  startServiceUnderTest,
  waitFor,
  type ServiceUnderTest,
  type TestDatabase,
} from '@app/testing';
import { readConfig } from '../../src/config';
import { start, type RunningOrderService } from '../../src/main';
import { countRows } from './count-rows';

const LIMIT = 3;

/**
 * Admission control (MAX_OPEN_ORDERS): Order alone, with nothing consuming its messages,
 * so every order it accepts stays open until the test ends one by hand.
 */
describe('order: admission control against a real broker and database', () => {
  let sut: ServiceUnderTest<RunningOrderService>;
  let db: TestDatabase;
  let url: string;

  beforeAll(async () => {
    sut = await startServiceUnderTest('order', 'order-admission', (env) => start(readConfig(env)), {
      MAX_OPEN_ORDERS: String(LIMIT),
      OPEN_ORDERS_COUNT_INTERVAL_MS: '50',
    });
    ({ db, url } = sut);
  });

  afterAll(async () => {
    await sut?.teardown();
  });

  const placeOrder = (headers: Record<string, string> = {}) =>
    request(`${url}/orders`, { body: anOrderRequest(), headers });

  /**
   * `count` POSTs on connections of their own whose bodies are all sent at the same moment,
   * once every connection is open: the requests reach Order together, before any of their
   * orders is stored. Resolves with the status codes.
   */
  const postTogether = async (count: number): Promise<number[]> => {
    const body = JSON.stringify(anOrderRequest());
    const requests = Array.from({ length: count }, () =>
      http.request(`${url}/orders`, {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      }),
    );
    const answers = requests.map(
      (req) =>
        new Promise<number>((resolve, reject) => {
          req.on('response', (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          });
          req.on('error', reject);
        }),
    );
    await Promise.all(
      requests.map(
        (req) => new Promise((resolve) => req.once('socket', (s) => s.once('connect', resolve))),
      ),
    );
    for (const req of requests) req.end(body);
    return Promise.all(answers);
  };

  const metric = async (name: string): Promise<number> => {
    const text = await fetch(`${url}/metrics`).then((response) => response.text());
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  };

  test('when as many orders are open as the limit allows, then the next POST is refused with 503, Retry-After and problem+json, and nothing of it is stored', async () => {
    // Fill to the limit. Admission errs on the side of refusing while a count of the open
    // orders runs beside a commit (the new order may count twice until the next count), so
    // a POST refused here is placed again, as a client would after Retry-After; a refused
    // POST stores nothing.
    const accepted: Awaited<ReturnType<typeof placeOrder>>[] = [];
    for (let placed = 1; placed <= LIMIT; placed += 1) {
      accepted.push(
        await waitFor(`order ${placed} of ${LIMIT} to be accepted`, async () => {
          const response = await placeOrder();
          return response.status === 202 ? response : undefined;
        }),
      );
    }
    const before = {
      orders: await countRows(db, 'orders'),
      outbox: await countRows(db, 'outbox_messages'),
    };

    const key = randomUUID();
    const refused = await placeOrder({ 'idempotency-key': key });

    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({
      status: 503,
      code: 'ORDER.OVERLOADED',
      detail: expect.stringContaining(`(${LIMIT})`),
    });
    expect({
      orders: await countRows(db, 'orders'),
      outbox: await countRows(db, 'outbox_messages'),
    }).toEqual(before);
    expect(await metric('orders_refused_total')).toBeGreaterThanOrEqual(1);
    expect(await metric('orders_open_limit')).toBe(LIMIT);

    // An order that ends frees its place: the client's retry with the same key is accepted,
    // and it is one order.
    const [first] = accepted;
    await db.query(`UPDATE orders SET status = 'COMPLETED' WHERE id = $1::uuid`, [first?.body.id]);
    const retried = await waitFor('the retry to be admitted', async () => {
      const response = await placeOrder({ 'idempotency-key': key });
      return response.status === 202 ? response : undefined;
    });
    expect(await db.query('SELECT id FROM orders WHERE idempotency_key = $1', [key])).toEqual([
      { id: retried.body.id },
    ]);
  });

  test('when many POSTs arrive at once at the limit, then no more orders are open than the limit allows', async () => {
    await db.query(`UPDATE orders SET status = 'COMPLETED'`);
    await waitFor('the count to see no open orders', async () =>
      (await metric('orders_open')) === 0 ? true : undefined,
    );

    const statuses = await postTogether(20);

    expect(statuses.filter((status) => status === 202)).toHaveLength(LIMIT);
    expect(statuses.filter((status) => status === 503)).toHaveLength(20 - LIMIT);
    expect(await countRows(db, `orders WHERE status <> 'COMPLETED'`)).toBe(LIMIT);
  });
});
