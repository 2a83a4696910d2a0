import type { ServiceName } from '@app/contracts';
import type { NamedDatabase } from '@app/testing';
import type { InboxRow, OrderRow, OutboxRow, Publisher, Timeline } from './timeline';

type Databases = Record<ServiceName, NamedDatabase>;

const epochMs = (column: string): string => `(extract(epoch FROM ${column}) * 1000)::float8`;

/** The timestamps each service recorded in its own database for these orders. */
export async function readTimeline(databases: Databases, orderIds: string[]): Promise<Timeline> {
  const outbox = async (service: Publisher): Promise<OutboxRow[]> => {
    const rows = await databases[service].query<{
      message_id: string;
      type: string;
      order_id: string;
      created: number;
      sent: number | null;
    }>(
      `SELECT message_id::text, type, payload->>'orderId' AS order_id,
              ${epochMs('created_at')} AS created, ${epochMs('sent_at')} AS sent
         FROM outbox_messages WHERE payload->>'orderId' = ANY($1::text[])`,
      [orderIds],
    );
    return rows.map((row) => ({
      messageId: row.message_id,
      type: row.type,
      orderId: row.order_id,
      createdAt: row.created,
      sentAt: row.sent ?? undefined,
    }));
  };
  const inbox = async (service: ServiceName, messageIds: string[]): Promise<InboxRow[]> => {
    const rows = await databases[service].query<{
      message_id: string;
      consumer: string;
      type: string;
      received: number;
    }>(
      `SELECT message_id::text, consumer, type, ${epochMs('received_at')} AS received
         FROM inbox_messages WHERE message_id = ANY($1::uuid[])`,
      [messageIds],
    );
    return rows.map((row) => ({
      messageId: row.message_id,
      consumer: row.consumer,
      type: row.type,
      receivedAt: row.received,
    }));
  };
  const orders = (
    await databases.order.query<{ id: string; status: string; created: number; updated: number }>(
      `SELECT id::text, status, ${epochMs('created_at')} AS created, ${epochMs('updated_at')} AS updated
         FROM orders WHERE id = ANY($1::uuid[])`,
      [orderIds],
    )
  ).map((row): OrderRow => ({
    id: row.id,
    status: row.status,
    createdAt: row.created,
    updatedAt: row.updated,
  }));
  const [fromOrder, fromInvoicing, fromShipping, fromPayment] = await Promise.all([
    outbox('order'),
    outbox('invoicing'),
    outbox('shipping'),
    outbox('payment'),
  ]);
  const sentByOrder = fromOrder.map((row) => row.messageId);
  const outcomes = [...fromInvoicing, ...fromShipping, ...fromPayment].map((row) => row.messageId);
  const [atInvoicing, atShipping, atStatistics, atPayment, atOrder] = await Promise.all([
    inbox('invoicing', sentByOrder),
    inbox('shipping', sentByOrder),
    inbox('statistics', sentByOrder),
    inbox('payment', sentByOrder),
    inbox('order', outcomes),
  ]);
  return {
    orders,
    outbox: {
      order: fromOrder,
      invoicing: fromInvoicing,
      shipping: fromShipping,
      payment: fromPayment,
    },
    inbox: {
      order: atOrder,
      invoicing: atInvoicing,
      shipping: atShipping,
      statistics: atStatistics,
      payment: atPayment,
    },
  };
}

/** Orders placed since `since` (epoch ms) and how many of them completed, by when. */
export async function completionsSince(
  order: NamedDatabase,
  since: number,
): Promise<{ placed: number; completedAt: number[] }> {
  const rows = await order.query<{ status: string; updated: number }>(
    `SELECT status, ${epochMs('updated_at')} AS updated FROM orders
      WHERE created_at >= to_timestamp($1::float8 / 1000)`,
    [since],
  );
  return {
    placed: rows.length,
    completedAt: rows.filter((row) => row.status === 'COMPLETED').map((row) => row.updated),
  };
}

/**
 * Polls until every order placed since `since` completed, or the deadline; returns how
 * many were still open then.
 */
export async function waitForCompletion(
  order: NamedDatabase,
  since: number,
  timeoutMs: number,
): Promise<{ open: number; waitedMs: number }> {
  const started = Date.now();
  for (;;) {
    const [row] = await order.query<{ open: number }>(
      `SELECT count(*)::int AS open FROM orders
        WHERE created_at >= to_timestamp($1::float8 / 1000) AND status NOT IN ('COMPLETED', 'CANCELLED', 'FAILED')`,
      [since],
    );
    const open = row?.open ?? 0;
    const waitedMs = Date.now() - started;
    if (open === 0 || waitedMs >= timeoutMs) return { open, waitedMs };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
