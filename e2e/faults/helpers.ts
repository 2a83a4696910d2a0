import type { MessagingStyle, ServiceName } from '@app/contracts';
import { sumOfSamples } from '@app/runtime';
import {
  anOrderRequest,
  checkLedger,
  request,
  waitFor,
  type Ledger,
  type LedgerOptions,
  type RunningSystem,
} from '@app/testing';
import { quiet } from './support';

/** Places an order over HTTP and returns its id. */
export async function placeOrder(
  system: RunningSystem,
  overrides: Record<string, unknown> = {},
): Promise<string> {
  const placed = await request(`${system.services.order.url}/orders`, {
    body: anOrderRequest(overrides),
  });
  expect(placed.status).toBe(202);
  return placed.body.id as string;
}

export function orderCompleted(
  system: RunningSystem,
  orderId: string,
  timeoutMs?: number,
): Promise<Record<string, unknown>> {
  return waitFor(
    `order ${orderId} to complete`,
    async () => {
      const order = await request(`${system.services.order.url}/orders/${orderId}`);
      return order.body?.status === 'COMPLETED'
        ? (order.body as Record<string, unknown>)
        : undefined;
    },
    timeoutMs === undefined ? undefined : { timeoutMs },
  );
}

/**
 * The sum of a counter's samples whose labels include `labels`, from a service's
 * `/metrics`; 0 when none matches.
 */
export async function counterValue(
  system: RunningSystem,
  service: ServiceName,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metrics = await request(`${system.services[service].url}/metrics`);
  return sumOfSamples(String(metrics.body), name, labels);
}

export const consumed = (
  system: RunningSystem,
  service: ServiceName,
  labels: { queue?: string; type?: string; outcome: string },
): Promise<number> =>
  counterValue(system, service, 'messages_consumed_total', labels as Record<string, string>);

/** Rows of a query that returns one `n` column. */
export async function countOf(
  system: RunningSystem,
  service: ServiceName,
  sql: string,
  params: unknown[] = [],
): Promise<number> {
  const [row] = await system.databases[service].query<{ n: string }>(sql, params);
  return Number(row?.n ?? 0);
}

/**
 * The ledger of `orderIds`, checked once every outbox is sent and every queue of the system
 * is idle (nothing ready, nothing unacknowledged, so no redelivery is still on its way) and, in the event style,
 * every statistics count landed: lost, doubled and miscounted must be empty. With `wire`
 * (a `TestBroker.spyOnEverything()` spy's messages) it also counts message ids per order
 * and type. The redeliveries it reports are logged, not asserted here (each test asserts
 * the ones its fault must cause).
 */
export async function expectCleanLedger(
  system: RunningSystem,
  label: string,
  orderIds: string[],
  { style = 'event', wire }: { style?: MessagingStyle } & LedgerOptions = {},
): Promise<Ledger> {
  await quiet(system);
  if (style === 'event') {
    await waitFor('statistics to count every order', async () => {
      const n = await countOf(
        system,
        'statistics',
        'SELECT count(*) AS n FROM counted_orders WHERE order_id = ANY($1::uuid[])',
        [orderIds],
      );
      return n >= orderIds.length;
    });
  }
  const ledger = await checkLedger(system, orderIds, style, wire ? { wire } : {});
  console.log(
    `[ledger] ${label} (${style} style): orders=${ledger.orders} completed=${ledger.completed} ` +
      `lost=${ledger.lost.length} doubled=${ledger.doubled.length} miscounted=${ledger.miscounted.length} ` +
      `redeliveries=${JSON.stringify(ledger.redeliveries)}`,
  );
  expect(ledger.lost).toEqual([]);
  expect(ledger.doubled).toEqual([]);
  expect(ledger.miscounted).toEqual([]);
  expect(ledger.completed).toBe(orderIds.length);
  return ledger;
}
