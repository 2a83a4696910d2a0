import type { InboxRef, OutgoingMessage } from '@app/broker';
import { withSpan } from '@app/telemetry';
import { claimInbox } from './inbox';
import { addToOutbox, outboxInsert, outboxRows } from './outbox';
import type { PgDatabase } from './pg-database';
import type { SqlClient } from './sql';

/** One SQL statement with its own `$1`, `$2`, … parameters. */
export interface Statement {
  sql: string;
  values: unknown[];
}

/** What a write done at most once did: its effect now, or nothing (handled before). */
export type OnceResult<E> =
  { outcome: 'processed'; entity: E } | { outcome: 'duplicate'; entity?: E | undefined };

/** A Postgres unique violation: the row (or inbox entry) exists already. */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown } | undefined)?.code === '23505';
}

/**
 * One statement that makes a change, records the delivery in the inbox and writes the
 * messages to the outbox, all or nothing: `change` runs first as the CTE `changed` (an
 * INSERT … ON CONFLICT DO NOTHING or an UPDATE … WHERE <as read>); the inbox row, the
 * `alsoWhenChanged` statements (which may select `FROM changed`) and the messages are
 * written only if it touched a row. One round trip, one implicit transaction. Returns how
 * many rows `change` touched; a delivery handled before collides on its inbox row and
 * throws a unique violation.
 */
export async function writeOnce(
  db: SqlClient,
  change: Statement,
  inbox: InboxRef | undefined,
  messages: readonly OutgoingMessage[],
  alsoWhenChanged: readonly Statement[] = [],
): Promise<number> {
  const values: unknown[] = [...change.values];
  const param = (value: unknown): string => `$${values.push(value)}`;
  const parts = [`changed AS (${change.sql} RETURNING 1 AS one)`];
  if (inbox) {
    parts.push(
      `inbox AS (INSERT INTO inbox_messages (consumer, message_id, type)
         SELECT ${param(inbox.consumer)}, ${param(inbox.messageId)}::uuid, ${param(inbox.type)} FROM changed)`,
    );
  }
  alsoWhenChanged.forEach((statement, index) => {
    parts.push(`also${index} AS (${renumber(statement.sql, values.length)})`);
    values.push(...statement.values);
  });
  if (messages.length > 0) {
    parts.push(
      `outbox AS (${outboxInsert(param(outboxRows(messages)))} WHERE EXISTS (SELECT 1 FROM changed))`,
    );
  }
  const write = async (): Promise<number> => {
    const [row] = await db.$queryRawUnsafe<{ changed: number }[]>(
      `WITH ${parts.join(',\n')}\nSELECT count(*)::int AS changed FROM changed`,
      ...values,
    );
    return row?.changed ?? 0;
  };
  if (messages.length === 0) return write();
  return withSpan(
    'outbox write',
    {
      attributes: {
        'outbox.messages': messages.length,
        'outbox.types': [...new Set(messages.map((message) => message.type))].join(','),
        'messaging.message.conversation_id': messages[0]?.properties.correlationId ?? '',
      },
    },
    write,
  );
}

/** Creating an entity at most once per delivery (inbox) and once per its unique key. */
export interface CreateOnce<E> {
  /** The delivery that asks for it; none for a request that is not a message. */
  inbox: InboxRef;
  /** The entity's `INSERT … ON CONFLICT DO NOTHING`: its unique key makes it once per key. */
  insert: Statement;
  /** Writes made only when the insert created the row; they may select `FROM changed`. */
  alsoWhenCreated?: Statement[];
  entity: E;
  /** The entity stored before under the same key, read when the insert conflicts. */
  findExisting?: (tx: SqlClient) => Promise<E | undefined>;
  /**
   * The messages to send with it. Called with `created` false for an entity stored
   * before, so a repeated command can be answered again with what exists.
   */
  messagesFor?: (entity: E, created: boolean) => OutgoingMessage[];
}

/**
 * The "exactly once" path of every consumer that creates something: the usual case in one
 * statement (`writeOnce`); when that writes nothing (the key exists, or the delivery was
 * handled before), a transaction tells the two apart, records the delivery and answers
 * with what exists. ON CONFLICT DO NOTHING there makes a concurrent request for the same
 * key wait for the first to commit and then find its row, instead of failing.
 */
export async function createOnce<E>(db: PgDatabase, spec: CreateOnce<E>): Promise<OnceResult<E>> {
  const messagesFor = spec.messagesFor ?? (() => []);
  const also = spec.alsoWhenCreated ?? [];
  const created = await writeOnce(
    db,
    spec.insert,
    spec.inbox,
    messagesFor(spec.entity, true),
    also,
  ).catch((err: unknown) => {
    if (isUniqueViolation(err)) return 0;
    throw err;
  });
  if (created > 0) return { outcome: 'processed', entity: spec.entity };
  return db.transaction(async (tx) => {
    if (!(await claimInbox(tx, spec.inbox))) return { outcome: 'duplicate' };
    if ((await tx.$executeRawUnsafe(spec.insert.sql, ...spec.insert.values)) === 0) {
      const earlier = await spec.findExisting?.(tx);
      for (const message of earlier ? messagesFor(earlier, false) : [])
        await addToOutbox(tx, message);
      return { outcome: 'duplicate', entity: earlier };
    }
    for (const statement of also) {
      await tx.$executeRawUnsafe(
        `WITH changed AS (SELECT 1 AS one) ${statement.sql}`,
        ...statement.values,
      );
    }
    for (const message of messagesFor(spec.entity, true)) await addToOutbox(tx, message);
    return { outcome: 'processed', entity: spec.entity };
  });
}

/** Shifts a statement's `$n` parameters by `offset`, to embed it in a larger statement. */
export function renumber(sql: string, offset: number): string {
  return sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
}

/** What recording a cancellation did: its undo ran (`undone` rows), or nothing. */
export type CancelResult =
  | { outcome: 'cancelled'; undone: number }
  | { outcome: 'already-cancelled' }
  | { outcome: 'duplicate' };

/**
 * Records an order's cancellation at most once, in one transaction: the delivery in the
 * inbox, a tombstone in `cancelled_orders` (kept for good), and `undo`, the service's own
 * statement that takes back what the order caused (void an invoice, subtract a total);
 * `undone` says how many rows it changed (none when the order's NewOrder has not arrived
 * yet: the tombstone then keeps that NewOrder from acting).
 *
 * The service's migration provides `cancelled_orders (order_id, reason, cancelled_at)` and
 * `order_is_cancelled(uuid)`, which takes a per-order transaction lock before it reads the
 * tombstone. The service's "create" statement calls it too (`WHERE NOT
 * order_is_cancelled($n)`), so a NewOrder and its cancellation handled at the same moment
 * wait for each other instead of each missing the other's uncommitted row.
 */
export function cancelOnce(
  db: PgDatabase,
  inbox: InboxRef,
  cancellation: { orderId: string; reason: string; cancelledAt: string | Date },
  undo: Statement,
): Promise<CancelResult> {
  return db.transaction(async (tx): Promise<CancelResult> => {
    if (!(await claimInbox(tx, inbox))) return { outcome: 'duplicate' };
    const [lock] = await tx.$queryRawUnsafe<{ cancelled: boolean }[]>(
      'SELECT order_is_cancelled($1::uuid) AS cancelled',
      cancellation.orderId,
    );
    if (lock?.cancelled) return { outcome: 'already-cancelled' };
    await tx.$executeRawUnsafe(
      `INSERT INTO cancelled_orders (order_id, reason, cancelled_at)
       VALUES ($1::uuid, $2, $3::timestamptz)`,
      cancellation.orderId,
      cancellation.reason,
      cancellation.cancelledAt,
    );
    return { outcome: 'cancelled', undone: await tx.$executeRawUnsafe(undo.sql, ...undo.values) };
  });
}
