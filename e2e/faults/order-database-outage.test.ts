import { randomUUID } from 'node:crypto';
import {
  TcpProxy,
  TestBroker,
  anOrderRequest,
  request,
  startSystem,
  waitFor,
  type RunningSystem,
  type Spy,
} from '@app/testing';
import { expectCleanLedger } from './helpers';
import { emptyHalfCreated, halfCreated, postAll, postOrder } from './keyed-posts';
import { crashLines, errorLines, gate, isRunning } from './support';

/**
 * Order's own Postgres goes away while orders are posted: Order reaches its database
 * through a TCP proxy that the test cuts (every connection dropped, new ones refused) and
 * restores; the shared Postgres is not touched. POSTs meanwhile get a clear 503
 * problem+json with a Retry-After, readiness says the database is down, nothing is left
 * half-written, and once it is back every accepted order completes once, new POSTs
 * succeed, and the clients' retries (same Idempotency-Key) make one order each.
 */
describe("fault: Order's own database is unreachable while orders are posted", () => {
  const POSTS = 60;
  /** Posted only once the cut is made: all during the outage. */
  const DURING_FROM = 30;
  /** Posted only once the database is back and Order is ready again. */
  const AFTER_FROM = 50;
  let system: RunningSystem;
  let proxy: TcpProxy;
  let broker: TestBroker;
  let wire: Spy;

  beforeAll(async () => {
    system = await startSystem({ label: 'fault_order_db' });
    const target = new URL(system.databases.order.url);
    proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    await system.restart('order', { DATABASE_URL: proxy.proxiedUrl(system.databases.order.url) });
    broker = await TestBroker.connect(system.vhost.url);
    wire = await broker.spyOnEverything();
  });

  afterAll(async () => {
    proxy?.restore();
    await broker?.close();
    await system?.teardown();
    await proxy?.close();
  });

  test.each(['event', 'command'] as const)(
    "when Order's database is cut while 60 orders are posted (%s style), then POSTs get 503 problem+json with Retry-After, readiness says database down, nothing is half-done, and every order completes once",
    async (style) => {
      const order = system.services.order;
      expect(proxy.openConnections).toBeGreaterThan(0);
      const requests = Array.from({ length: POSTS }, () => ({
        key: randomUUID(),
        body: anOrderRequest({ style }),
      }));
      const cutMade = gate();
      const backAndReady = gate();
      let answered = 0;
      const stream = postAll(order.url, requests, 10, {
        gates: { [DURING_FROM]: cutMade.opened, [AFTER_FROM]: backAndReady.opened },
        onAnswer: () => (answered += 1),
      });
      const readiness: { status: number; database?: string }[] = [];
      try {
        await waitFor('the first 20 answers', () => answered >= 20, { timeoutMs: 30_000 });
        proxy.cut();
        cutMade.open();
        // Arrange, not assert: the database stays away until every POST meant for the
        // outage was answered and readiness was probed during it.
        await waitFor(
          'the POSTs during the outage to be answered and readiness probed',
          async () => {
            const response = await request(`${order.url}/health/ready`).catch(() => undefined);
            if (response) {
              readiness.push({
                status: response.status,
                database: response.body?.checks?.database,
              });
            }
            return answered >= AFTER_FROM && readiness.some((r) => r.status === 503);
          },
          { timeoutMs: 60_000, intervalMs: 200 },
        );
      } finally {
        cutMade.open();
        proxy.restore();
      }
      await waitFor(
        'Order to be ready again',
        async () => (await request(`${order.url}/health/ready`)).status === 200,
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      backAndReady.open();
      const first = await stream;

      if (first.some((r) => r.status !== 202 && r.status !== 503)) {
        console.log(errorLines(order).join('\n'));
      }
      // Every answer is an acceptance or a clear "come back later": no 500, no hang-up.
      expect(first.filter((r) => r.status !== 202 && r.status !== 503)).toEqual([]);
      const unavailable = first.filter((r) => r.status === 503);
      expect(first.slice(DURING_FROM, AFTER_FROM).map((r) => r.status)).toEqual(
        new Array(AFTER_FROM - DURING_FROM).fill(503),
      );
      for (const r of unavailable) {
        expect({
          contentType: r.contentType,
          retryAfter: r.retryAfter,
          status: r.problem?.status,
          code: r.problem?.code,
        }).toEqual({
          contentType: expect.stringMatching(/^application\/problem\+json/),
          retryAfter: expect.stringMatching(/^\d+$/),
          status: 503,
          code: 'DATABASE.UNAVAILABLE',
        });
        expect(String(r.problem?.detail)).toMatch(/database/i);
      }
      // New POSTs, once the database is back, succeed at the first attempt.
      expect(first.slice(AFTER_FROM).map((r) => r.status)).toEqual(
        new Array(POSTS - AFTER_FROM).fill(202),
      );
      const down = readiness.filter((r) => r.status === 503);
      expect(down.length).toBeGreaterThan(0);
      expect(down.every((r) => r.database === 'down')).toBe(true);
      expect(proxy.stats.refused).toBeGreaterThan(0);
      expect(await halfCreated(system)).toEqual(emptyHalfCreated);

      const retriesFrom = Date.now();
      // The clients retry what was refused, with the same key, after the Retry-After.
      const retried = await Promise.all(
        unavailable.map((r) =>
          waitFor(
            `the retry of ${r.key} to be accepted`,
            async () => {
              const response = await postOrder(order.url, r);
              return response.status === 202 ? response : undefined;
            },
            { timeoutMs: 30_000, intervalMs: 250 },
          ),
        ),
      );
      const accepted = [...first.filter((r) => r.status === 202), ...retried];
      // Refused with a 503, yet stored: the commit went through and only its answer was lost.
      const committedThough503 = retried.filter(
        (r) => Date.parse(String(r.createdAt)) < retriesFrom,
      );
      // One order per request: customer ids are unique per request and no index caps them.
      const ordersPerCustomer = await system.databases.order.query<{
        customer_id: string;
        ids: string[];
      }>(
        `SELECT customer_id, array_agg(id::text) AS ids FROM orders
          WHERE customer_id = ANY($1::text[]) GROUP BY customer_id`,
        [requests.map((r) => r.body.customerId)],
      );
      const idsOf = new Map(ordersPerCustomer.map((row) => [row.customer_id, row.ids]));
      const answeredId = new Map(accepted.map((r) => [r.customerId, r.id] as const));
      expect(
        requests
          .map((r) => String(r.body.customerId))
          .filter((customer) => {
            const ids = idsOf.get(customer) ?? [];
            return ids.length !== 1 || ids[0] !== answeredId.get(customer);
          }),
      ).toEqual([]);

      const orderIds = [...answeredId.values()] as string[];
      await waitFor(
        `all ${orderIds.length} orders to complete`,
        async () => {
          const [row] = await system.databases.order.query<{ n: string }>(
            `SELECT count(*) AS n FROM orders WHERE id = ANY($1::uuid[]) AND status = 'COMPLETED'`,
            [orderIds],
          );
          return Number(row?.n) === orderIds.length;
        },
        { timeoutMs: 120_000, intervalMs: 250 },
      );
      const ledger = await expectCleanLedger(system, "Order's database cut", orderIds, {
        style,
        wire: wire.messages,
      });
      expect(await halfCreated(system)).toEqual(emptyHalfCreated);
      for (const service of Object.values(system.services)) {
        expect({ service: service.service, crashes: crashLines(service) }).toEqual({
          service: service.service,
          crashes: [],
        });
        expect(isRunning(service)).toBe(true);
      }
      console.log(
        `[order database cut] ${style} style: ${POSTS} POSTs, 10 at a time: ${first.length - unavailable.length} accepted at once, ` +
          `${unavailable.length} answered 503 (Retry-After ${unavailable[0]?.retryAfter}) and accepted on retry with their key (${committedThough503.length} of them had committed though answered 503); ` +
          `readiness 503 with database down ${down.length} times; ${proxy.stats.refused} connections refused so far; ` +
          `${orderIds.length} orders completed, doubled ${ledger.doubled.length}, redeliveries ${JSON.stringify(ledger.redeliveries)}`,
      );
    },
    240_000,
  );
});
