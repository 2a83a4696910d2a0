import { randomUUID } from 'node:crypto';
import {
  TestBroker,
  anOrderRequest,
  startSystem,
  waitFor,
  type RunningSystem,
  type Spy,
} from '@app/testing';
import { expectCleanLedger } from './helpers';
import { emptyHalfCreated, halfCreated, postAll, postOrder } from './keyed-posts';
import { crashLines, isRunning } from './support';

/**
 * Order is SIGKILLed while dozens of `POST /orders` are in flight, then started again. A
 * client that got 202 has an order that completes exactly once; a client whose request
 * died with the process (connection reset or refused) retries it with the same
 * Idempotency-Key and gets one order, never two (whether or not the first attempt had
 * committed); and Order's own database holds no order without its items or its outgoing
 * message, and no outgoing message without its order.
 */
describe('fault: Order is killed while POSTs are in flight', () => {
  const POSTS = 120;
  const CONCURRENCY = 50;
  const KILL_AFTER_ANSWERS = 20;
  let system: RunningSystem;
  let broker: TestBroker;
  let wire: Spy;

  beforeAll(async () => {
    // A killed relay's claimed rows wait out their lease before another relay takes them.
    system = await startSystem({ label: 'fault_order_kill', env: { OUTBOX_LEASE_MS: '5000' } });
    broker = await TestBroker.connect(system.vhost.url);
    wire = await broker.spyOnEverything();
  });

  afterAll(async () => {
    await broker?.close();
    await system?.teardown();
  });

  test.each(['event', 'command'] as const)(
    'when Order is SIGKILLed after 20 of 120 POSTs answered, 50 at a time (%s style), then every 202 completes once, every failed POST retried with its key makes one order, and none is half-created',
    async (style) => {
      const requests = Array.from({ length: POSTS }, () => ({
        key: randomUUID(),
        body: anOrderRequest({ style }),
      }));
      let killed: Promise<void> | undefined;
      const first = await postAll(system.url('order'), requests, CONCURRENCY, {
        onAnswer: (answered) => {
          // SIGKILL is sent synchronously here, while the other requests are in flight.
          if (answered === KILL_AFTER_ANSWERS) killed = system.kill('order');
        },
      });
      await killed;
      expect(killed).toBeDefined();
      // A request either was accepted or died with the process; no error answer.
      expect(first.filter((r) => r.status !== 202 && r.status !== 0)).toEqual([]);
      const accepted = first.filter((r) => r.status === 202);
      const failed = first.filter((r) => r.status === 0);
      expect(failed.length).toBeGreaterThan(0);

      const restarted = await system.restart('order');
      const restartedAt = Date.now();
      expect(await halfCreated(system)).toEqual(emptyHalfCreated);

      // The client's retry: same key, same body, until accepted.
      const retried = await Promise.all(
        failed.map((r) =>
          waitFor(
            `the retry of ${r.key} to be accepted`,
            async () => {
              const response = await postOrder(restarted.url, r);
              return response.status === 202 ? response : undefined;
            },
            { timeoutMs: 30_000, intervalMs: 250 },
          ),
        ),
      );
      // Accepted by the retry but created by the first attempt: it committed, the answer died.
      const committedBeforeKill = retried.filter(
        (r) => Date.parse(String(r.createdAt)) < restartedAt,
      );

      // One order per request (customer ids are unique per request; no index caps them).
      const ordersPerCustomer = await system.databases.order.query<{
        customer_id: string;
        ids: string[];
      }>(
        `SELECT customer_id, array_agg(id::text) AS ids FROM orders
          WHERE customer_id = ANY($1::text[]) GROUP BY customer_id`,
        [requests.map((r) => r.body.customerId)],
      );
      const idsOf = new Map(ordersPerCustomer.map((row) => [row.customer_id, row.ids]));
      const answeredId = new Map(
        [...accepted, ...retried].map((r) => [r.customerId, r.id] as const),
      );
      const mismatches = requests
        .map((r) => String(r.body.customerId))
        .filter((customer) => {
          const ids = idsOf.get(customer) ?? [];
          return ids.length !== 1 || ids[0] !== answeredId.get(customer);
        })
        .map((customer) => ({
          customer,
          answered: answeredId.get(customer),
          stored: idsOf.get(customer),
        }));
      expect(mismatches).toEqual([]);

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
      const ledger = await expectCleanLedger(system, `Order killed mid-POST`, orderIds, {
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
      const failures = countBy(failed.map((r) => r.error ?? 'unknown'));
      console.log(
        `[order killed mid-POST] ${style} style: ${POSTS} POSTs, ${CONCURRENCY} at a time, SIGKILL after ${KILL_AFTER_ANSWERS} answers: ` +
          `${accepted.length} accepted before the kill, ${failed.length} failed (${JSON.stringify(failures)}), ` +
          `all ${retried.length} retried with their key and accepted, ${committedBeforeKill.length} of them had committed before the kill; ` +
          `${orderIds.length} orders completed, doubled ${ledger.doubled.length}, redeliveries ${JSON.stringify(ledger.redeliveries)}`,
      );
    },
    240_000,
  );
});

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
