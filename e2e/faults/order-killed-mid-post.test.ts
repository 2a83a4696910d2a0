import { randomUUID } from 'node:crypto';
import {
  TestBroker,
  anOrderRequest,
  request,
  startSystem,
  waitFor,
  type RunningSystem,
  type Spy,
} from '@app/testing';
import { expectCleanLedger } from './helpers';
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
      const first = await postAll(system.url('order'), requests, CONCURRENCY, (answered) => {
        // SIGKILL is sent synchronously here, while the other requests are in flight.
        if (answered === KILL_AFTER_ANSWERS) killed = system.kill('order');
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
      await outboxesDrained(system);
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

interface KeyedRequest {
  key: string;
  body: Record<string, unknown>;
}

interface PostOutcome {
  key: string;
  body: Record<string, unknown>;
  customerId: string;
  status: number;
  id?: string;
  createdAt?: string;
  /** Why no answer came (status 0): the socket error, e.g. ECONNRESET or ECONNREFUSED. */
  error?: string;
}

/** One POST /orders with its Idempotency-Key; status 0 when no answer came. */
async function postOrder(orderUrl: string, { key, body }: KeyedRequest): Promise<PostOutcome> {
  const base = { key, body, customerId: String(body.customerId) };
  try {
    const response = await request(`${orderUrl}/orders`, {
      body,
      headers: { 'idempotency-key': key },
    });
    return {
      ...base,
      status: response.status,
      ...(typeof response.body?.id === 'string' ? { id: response.body.id as string } : {}),
      ...(typeof response.body?.createdAt === 'string'
        ? { createdAt: response.body.createdAt as string }
        : {}),
    };
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { ...base, status: 0, error: cause?.code ?? cause?.message ?? String(err) };
  }
}

/** Posts every request, `concurrency` at a time; `onAnswer` hears the running count. */
async function postAll(
  orderUrl: string,
  requests: KeyedRequest[],
  concurrency: number,
  onAnswer: (answered: number) => void,
): Promise<PostOutcome[]> {
  const outcomes: PostOutcome[] = new Array(requests.length);
  let next = 0;
  let answered = 0;
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const index = next;
      next += 1;
      outcomes[index] = await postOrder(orderUrl, requests[index]!);
      answered += 1;
      onAnswer(answered);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return outcomes;
}

interface HalfCreated {
  withoutItems: string[];
  itemsNotAddingUp: string[];
  withoutOutgoingMessage: string[];
  messagesWithoutOrder: string[];
}

const emptyHalfCreated: HalfCreated = {
  withoutItems: [],
  itemsNotAddingUp: [],
  withoutOutgoingMessage: [],
  messagesWithoutOrder: [],
};

/**
 * Orders of Order's own database that exist only in part: without items, with items that
 * do not add up to the total, without the message that starts their saga (`NewOrder` or
 * `AuthorizePayment`), or an outgoing message whose order does not exist.
 */
async function halfCreated(system: RunningSystem): Promise<HalfCreated> {
  const db = system.databases.order;
  const ids = async (sql: string): Promise<string[]> =>
    (await db.query<{ id: string }>(sql)).map((row) => row.id);
  return {
    withoutItems: await ids(
      `SELECT o.id FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id)`,
    ),
    itemsNotAddingUp: await ids(
      `SELECT o.id FROM orders o JOIN order_items i ON i.order_id = o.id
        GROUP BY o.id, o.total_cents HAVING sum(i.quantity * i.unit_price_cents) <> o.total_cents`,
    ),
    withoutOutgoingMessage: await ids(
      `SELECT o.id FROM orders o WHERE NOT EXISTS (
         SELECT 1 FROM outbox_messages m WHERE m.payload->>'orderId' = o.id::text
            AND m.type = CASE o.style WHEN 'event' THEN 'NewOrder' ELSE 'AuthorizePayment' END)`,
    ),
    messagesWithoutOrder: await ids(
      `SELECT m.message_id AS id FROM outbox_messages m
        WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id::text = m.payload->>'orderId')`,
    ),
  };
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/**
 * Waits until no service holds an unsent outbox row, so nothing more will reach the wire:
 * a row published but not marked sent (its relay lost the database or the confirm) is
 * published again once its lease runs out, after the queues may already have looked idle.
 */
async function outboxesDrained(system: RunningSystem): Promise<void> {
  await waitFor(
    'every outbox row to be sent',
    async () => {
      for (const db of Object.values(system.databases)) {
        const [outbox] = await db.query<{ exists: boolean }>(
          `SELECT to_regclass('outbox_messages') IS NOT NULL AS exists`,
        );
        if (!outbox?.exists) continue;
        const [row] = await db.query<{ n: string }>(
          'SELECT count(*) AS n FROM outbox_messages WHERE sent_at IS NULL',
        );
        if (Number(row?.n) > 0) return false;
      }
      return true;
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  );
}
