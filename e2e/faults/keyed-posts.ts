import { request, type RunningSystem } from '@app/testing';

/** Orders posted the way a careful client posts them: each with its own Idempotency-Key. */

export interface KeyedRequest {
  key: string;
  body: Record<string, unknown>;
}

export interface PostOutcome extends KeyedRequest {
  customerId: string;
  /** The HTTP status; 0 when no answer came. */
  status: number;
  id?: string;
  createdAt?: string;
  /** Why no answer came (status 0): the socket error, e.g. ECONNRESET or ECONNREFUSED. */
  error?: string;
  /** For an answer other than 202: its content type, Retry-After and problem body. */
  contentType?: string;
  retryAfter?: string;
  problem?: { status?: number; code?: string; detail?: string };
}

/** One POST /orders with its Idempotency-Key; status 0 when no answer came. */
export async function postOrder(
  orderUrl: string,
  { key, body }: KeyedRequest,
): Promise<PostOutcome> {
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
      ...(response.status === 202
        ? { createdAt: String(response.body?.createdAt) }
        : {
            contentType: response.headers.get('content-type') ?? undefined,
            retryAfter: response.headers.get('retry-after') ?? undefined,
            problem: response.body as PostOutcome['problem'],
          }),
    };
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { ...base, status: 0, error: cause?.code ?? cause?.message ?? String(err) };
  }
}

/**
 * Posts every request, `concurrency` at a time, in order; no request from index `i` on is
 * sent before `gates[i]` opened, so a fault lands while requests are in flight and the
 * requests after a gate certainly come after what opens it. `onAnswer` hears the running
 * count of answers.
 */
export async function postAll(
  orderUrl: string,
  requests: KeyedRequest[],
  concurrency: number,
  {
    gates = {},
    onAnswer = () => undefined,
  }: { gates?: Record<number, Promise<void>>; onAnswer?: (answered: number) => void } = {},
): Promise<PostOutcome[]> {
  const outcomes: PostOutcome[] = new Array(requests.length);
  let next = 0;
  let answered = 0;
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const index = next;
      next += 1;
      await Promise.all(
        Object.entries(gates)
          .filter(([from]) => Number(from) <= index)
          .map(([, opened]) => opened),
      );
      outcomes[index] = await postOrder(orderUrl, requests[index]!);
      answered += 1;
      onAnswer(answered);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return outcomes;
}

export interface HalfCreated {
  withoutItems: string[];
  itemsNotAddingUp: string[];
  withoutOutgoingMessage: string[];
  messagesWithoutOrder: string[];
}

export const emptyHalfCreated: HalfCreated = {
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
export async function halfCreated(system: RunningSystem): Promise<HalfCreated> {
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
