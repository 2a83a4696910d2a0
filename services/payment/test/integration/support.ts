import { request, type TestDatabase } from '@app/testing';

/** The messages Payment wrote to its outbox for an order (sent or not), oldest first. */
export const outgoingFor = (db: TestDatabase, orderId: string) =>
  db.query<{ type: string; payload: Record<string, unknown> }>(
    `SELECT type, payload FROM outbox_messages WHERE payload->>'orderId' = $1 ORDER BY id`,
    [orderId],
  );

export const paymentsOf = (db: TestDatabase, orderId: string) =>
  db.query<{ id: string; status: string; decline_reason: string | null }>(
    'SELECT id, status, decline_reason FROM payments WHERE order_id = $1',
    [orderId],
  );

/** How many deliveries from `queue` the service counted with `outcome` (its /metrics). */
export async function consumedCount(
  url: string,
  queue: string,
  type: string,
  outcome: 'processed' | 'duplicate',
): Promise<number> {
  const metrics = String((await request(`${url}/metrics`)).body);
  const prefix = `messages_consumed_total{queue="${queue}",type="${type}",outcome="${outcome}"} `;
  const line = metrics.split('\n').find((l) => l.startsWith(prefix));
  return line ? Number(line.slice(prefix.length)) : 0;
}
