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

/** One write of `writeOnce`: the change, its delivery, its messages and its other writes. */
export interface OnceWrite {
  change: Statement;
  /** The delivery, or deliveries, the change is recorded for. */
  inbox: InboxRef | readonly InboxRef[] | undefined;
  messages: readonly OutgoingMessage[];
  /** Statements run only if `change` touched a row; they may select `FROM changed`. */
  alsoWhenChanged?: readonly Statement[];
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
  const [changed] = await writeManyOnce(db, [{ change, inbox, messages, alsoWhenChanged }]);
  return changed ?? 0;
}

/**
 * Several `writeOnce` writes in one statement, so one round trip and one commit for a
 * batch of deliveries: each write's CTEs are numbered (`changed1`, `inbox1`, …, and its
 * `alsoWhenChanged` statements select from its own `changed<n>`), each writes its inbox row
 * and messages only if its own change touched a row, and the whole is one implicit
 * transaction: all of it commits or none. Returns, per write, how many rows its change
 * touched. All writes run on one snapshot, so none sees another's rows: writes that
 * update one row twice (an upsert of the same total) do not belong in one statement.
 * The messages committed go to the database's outbox relay (`SqlClient.outbox`): written
 * leased and handed over when it takes them, else written unleased and the relay woken.
 */
export async function writeManyOnce(
  db: SqlClient,
  writes: readonly OnceWrite[],
): Promise<number[]> {
  const values: unknown[] = [];
  const param = (value: unknown): string => `$${values.push(value)}`;
  const embed = (statement: Statement): string => {
    const sql = renumber(statement.sql, values.length);
    values.push(...statement.values);
    return sql;
  };
  const parts: string[] = [];
  const counts: string[] = [];
  const messages = writes.flatMap((write) => write.messages);
  // Messages written leased go straight to the relay after the commit (see OutboxHandoff).
  const lease = messages.length > 0 ? db.outbox?.lease() : undefined;
  writes.forEach((write, w) => {
    const n = writes.length === 1 ? '' : String(w + 1);
    const changed = `changed${n}`;
    parts.push(`${changed} AS (${embed(write.change)} RETURNING 1 AS one)`);
    counts.push(`(SELECT count(*) FROM ${changed})::int`);
    const inbox = write.inbox === undefined ? [] : [write.inbox].flat();
    if (inbox.length > 0) {
      const rows = inbox.map(
        ({ consumer, messageId, type }) =>
          `(${param(consumer)}, ${param(messageId)}::uuid, ${param(type)})`,
      );
      parts.push(
        `inbox${n} AS (INSERT INTO inbox_messages (consumer, message_id, type)
           SELECT v.consumer, v.message_id, v.type
             FROM (VALUES ${rows.join(', ')}) AS v(consumer, message_id, type), ${changed})`,
      );
    }
    (write.alsoWhenChanged ?? []).forEach((statement, index) => {
      const sql = embed(statement).replace(/\bchanged\b/g, changed);
      parts.push(`also${n}_${index} AS (${sql})`);
    });
    if (write.messages.length > 0) {
      parts.push(
        `outbox${n} AS (${outboxInsert(param(outboxRows(write.messages, lease)))}
           WHERE EXISTS (SELECT 1 FROM ${changed}))`,
      );
    }
  });
  const run = async (): Promise<number[]> => {
    const [row] = await db.$queryRawUnsafe<{ changed: number[] }[]>(
      `WITH ${parts.join(',\n')}\nSELECT ARRAY[${counts.join(', ')}] AS changed`,
      ...values,
    );
    const changed = row?.changed ?? writes.map(() => 0);
    // Committed: each write's messages were written if its change touched a row.
    const written = writes.flatMap((write, w) => ((changed[w] ?? 0) > 0 ? write.messages : []));
    if (written.length > 0) {
      if (lease === undefined) db.outbox?.wake();
      else db.outbox?.take(written);
    }
    return changed;
  };
  if (messages.length === 0) return run();
  return withSpan(
    'outbox write',
    {
      attributes: {
        'outbox.messages': messages.length,
        'outbox.types': [...new Set(messages.map((message) => message.type))].join(','),
        'messaging.message.conversation_id': messages[0]?.properties.correlationId ?? '',
        'db.batch.writes': writes.length,
      },
    },
    run,
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
  return createOnceSlowly(db, spec);
}

/**
 * `createOnce` when its one statement wrote nothing: a transaction tells apart a delivery
 * handled before, a key that exists already (answered with what exists) and a concurrent
 * request for the same key (ON CONFLICT DO NOTHING waits for it to commit).
 */
async function createOnceSlowly<E>(db: PgDatabase, spec: CreateOnce<E>): Promise<OnceResult<E>> {
  const result = await createInTransaction(db, spec);
  // Its messages were written unleased, for the relay's claim (see OutboxHandoff).
  if (result.outcome === 'processed' || result.entity !== undefined) db.outbox?.wake();
  return result;
}

/** `createOnceSlowly`'s transaction; messages it writes go by `addToOutbox`, unleased. */
function createInTransaction<E>(db: PgDatabase, spec: CreateOnce<E>): Promise<OnceResult<E>> {
  const messagesFor = spec.messagesFor ?? (() => []);
  const also = spec.alsoWhenCreated ?? [];
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

/**
 * `createOnce` for a batch of deliveries: the usual case of every spec in one statement
 * (`writeManyOnce`: one round trip, one commit); the specs whose insert wrote nothing there
 * (the key exists, the order was cancelled, a second spec for one key) then go one by one
 * through `createOnce`'s transaction, which tells those apart (a delivery handled before
 * is one of them: its entity exists, so its insert wrote nothing, and its inbox row shows
 * it). Should the statement fail on an inbox row all the same (a message id reused for
 * another key), nothing of it committed and every spec goes one by one. Results are in
 * the order of `specs`.
 */
export async function createManyOnce<E>(
  db: PgDatabase,
  specs: readonly CreateOnce<E>[],
): Promise<OnceResult<E>[]> {
  const writes = specs.map((spec) => ({
    change: spec.insert,
    inbox: spec.inbox,
    messages: (spec.messagesFor ?? (() => []))(spec.entity, true),
    alsoWhenChanged: spec.alsoWhenCreated ?? [],
  }));
  const created = await writeManyOnce(db, writes).catch((err: unknown) => {
    if (isUniqueViolation(err)) return specs.map(() => 0);
    throw err;
  });
  const results: OnceResult<E>[] = [];
  for (const [index, spec] of specs.entries()) {
    results.push(
      (created[index] ?? 0) > 0
        ? { outcome: 'processed', entity: spec.entity }
        : await createOnceSlowly(db, spec),
    );
  }
  return results;
}

/** What creating an entity of an order did: created now, handled before, or stopped by the order's tombstone. */
export type OrderEntityOutcome = 'processed' | 'duplicate' | 'order-cancelled';

/**
 * `createManyOnce` for entities of orders that may be cancelled before their request
 * arrives (an invoice, a shipment): each spec's insert carries `WHERE NOT
 * order_is_cancelled(<order id>)` (the order's lock makes that hold against an
 * OrderCancelled handled meanwhile) and its `findExisting` looks for the order's entity.
 * An insert that wrote nothing while nothing is there was stopped by the tombstone: that
 * spec answers `order-cancelled`. Outcomes are in the order of `specs`.
 */
export async function createForOrdersOnce<E>(
  db: PgDatabase,
  specs: readonly CreateOnce<E>[],
): Promise<OrderEntityOutcome[]> {
  const stopped = new Set<number>();
  const watched = specs.map((spec, index): CreateOnce<E> => ({
    ...spec,
    findExisting: async (tx) => {
      const existing = await spec.findExisting?.(tx);
      if (existing === undefined) stopped.add(index);
      return existing;
    },
  }));
  const results = await createManyOnce(db, watched);
  return results.map(({ outcome }, index) => (stopped.has(index) ? 'order-cancelled' : outcome));
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
