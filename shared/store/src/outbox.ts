import type { Logger } from '@app/runtime';
import { delay } from '@app/runtime';
import { Messages } from '@app/contracts';
import type { OutgoingMessage, OutgoingProperties } from '@app/broker';
import type { FaultSwitches } from '@app/broker';
import type { Publisher } from '@app/broker';
import { SpanKind, traceparentOf, withSpan } from '@app/telemetry';
import type { SqlClient } from './sql';

/** Writes a message to the outbox; call it inside the transaction that changes the state. */
export async function addToOutbox(tx: SqlClient, message: OutgoingMessage): Promise<void> {
  await tx.$executeRawUnsafe(
    `INSERT INTO outbox_messages (message_id, type, exchange, routing_key, payload, properties)
     VALUES ($1::uuid, $2, $3, $4, $5::jsonb, $6::jsonb)`,
    message.messageId,
    message.type,
    message.exchange,
    message.routingKey,
    JSON.stringify(message.payload),
    JSON.stringify(message.properties),
  );
}

/**
 * SQL that writes the messages of a JSON parameter (made by `outboxRows`) to the outbox,
 * for use inside a larger statement: a service can then store its state and its messages
 * in one statement, one round trip and one implicit transaction, instead of BEGIN, a
 * statement each and COMMIT. Append a `WHERE` to write them only if the state was written:
 *
 *   WITH invoice AS (INSERT ... ON CONFLICT DO NOTHING RETURNING id)
 *   ${outboxInsert('$9')} WHERE EXISTS (SELECT 1 FROM invoice)
 */
export function outboxInsert(rowsParameter: string): string {
  return `INSERT INTO outbox_messages (message_id, type, exchange, routing_key, payload, properties)
          SELECT m.message_id, m.type, m.exchange, m.routing_key, m.payload, m.properties
            FROM jsonb_to_recordset(${rowsParameter}::jsonb) AS m(message_id uuid, type text,
                 exchange text, routing_key text, payload jsonb, properties jsonb)`;
}

/** The parameter of `outboxInsert`: the messages as outbox rows, in JSON. */
export function outboxRows(messages: readonly OutgoingMessage[]): string {
  return JSON.stringify(
    messages.map((message) => ({
      message_id: message.messageId,
      type: message.type,
      exchange: message.exchange,
      routing_key: message.routingKey,
      payload: message.payload,
      properties: message.properties,
    })),
  );
}

/**
 * A condition that makes the statement's transaction commit without waiting for its WAL
 * to reach the disk (`synchronous_commit = off` for that transaction only; Postgres
 * evaluates a condition without columns once, before the statement's rows). For the
 * relay's own bookkeeping only, whose loss in a database crash costs a duplicate and
 * nothing else: a lease that is lost lets the row be claimed again, a "sent" mark that is
 * lost makes the row be published again, and the receivers' inboxes absorb both. The
 * state and messages a service writes keep committing durably: a message is acked only
 * after them. At low load every commit is a flush of its own, and the relay makes two of
 * them per message; without them a flush costs the order's other writes only.
 */
const WITHOUT_WAITING_FOR_THE_DISK = `(SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL`;

/**
 * The relay's claim: marks the rows confirmed in the last cycle ($3, $4: ids and confirm
 * times) and leases the next unsent ones ($1 at most, for $2 ms), oldest first, skipping
 * rows another relay holds. The unsent rows are read through `outbox_messages_unsent_idx`
 * (each service's migrations), which holds only them. The marked rows are picked by
 * `id = ANY(...)` as well as by the join with their times: a prepared statement keeps the
 * plan it was first given, and one planned on an empty outbox without that condition
 * joins by a sequential scan of the whole table, however large it grows
 * (`outbox-claim.test.ts`).
 */
export const RELAY_CLAIM = `WITH marked AS (
     UPDATE outbox_messages o SET sent_at = m.at, locked_until = NULL, last_error = NULL
       FROM unnest($3::bigint[], $4::timestamptz[]) AS m(id, at)
      WHERE o.id = ANY($3::bigint[]) AND o.id = m.id)
   UPDATE outbox_messages SET locked_until = now() + ($2::int * interval '1 millisecond'),
          attempts = attempts + 1
    WHERE id IN (SELECT id FROM outbox_messages
                  WHERE sent_at IS NULL AND (locked_until IS NULL OR locked_until < now())
                    AND id <> ALL($3::bigint[])
                  ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
      AND ${WITHOUT_WAITING_FOR_THE_DISK}
    RETURNING id, message_id, type, exchange, routing_key, payload, properties`;

/** The relay's mark on its own ($1, $2: ids and confirm times), as in `RELAY_CLAIM`. */
export const RELAY_MARK = `UPDATE outbox_messages o SET sent_at = m.at, locked_until = NULL, last_error = NULL
    FROM unnest($1::bigint[], $2::timestamptz[]) AS m(id, at)
   WHERE o.id = ANY($1::bigint[]) AND o.id = m.id AND ${WITHOUT_WAITING_FOR_THE_DISK}`;

interface OutboxRow {
  /** Prisma returns an int8 as a bigint, `pg` as a string. */
  id: bigint | string;
  message_id: string;
  type: string;
  exchange: string;
  routing_key: string;
  payload: unknown;
  properties: OutgoingProperties;
}

export interface OutboxRelayOptions {
  db: SqlClient;
  publisher: Publisher;
  logger: Logger;
  isConnected: () => boolean;
  batchSize?: number;
  /** Fallback poll: `wake()` after each commit is the fast path. */
  pollIntervalMs?: number;
  /** A claimed row not marked sent by then (its relay died) is claimed again. */
  leaseMs?: number;
  /** How long confirmed rows wait for the next claim to carry their mark (see `confirmed`). */
  markDelayMs?: number;
  /** Called when the broker returned an unroutable `mandatory` message. */
  onReturned?: (message: OutgoingMessage) => Promise<void>;
  faults?: FaultSwitches;
}

/**
 * Publishes outbox rows with publisher confirms and marks them sent only after the
 * confirm: a crash between commit and publish loses nothing, it publishes again (the
 * receiver's inbox absorbs the duplicate). It publishes only while connected, so the
 * outbox table, not an in-memory buffer, holds what waits during a broker outage.
 * No database transaction is held while talking to the broker: rows are leased first.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly markDelayMs: number;
  private wakeUp = new AbortController();
  private pendingWake = false;
  /**
   * Rows published and confirmed, not yet marked sent, with the time of their confirm
   * (which the mark writes as `sent_at`). Their mark rides along with the next claim: one
   * statement per cycle instead of two, a large share of a service's statements, since
   * most cycles carry a row or two. The next claim comes when a commit wakes the relay;
   * if none does within `markDelayMs`, they are marked on their own. A crash before the
   * mark means what a crash between confirm and mark always meant: they are published
   * again after their lease, and the receivers' inboxes absorb them.
   */
  private confirmed: { id: string; at: Date }[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 100;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.markDelayMs = options.markDelayMs ?? 100;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Asks the relay to look at the outbox now (after a commit that wrote to it). */
  wake(): void {
    this.pendingWake = true;
    this.wakeUp.abort();
  }

  /** Finishes the batch in flight, then stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { logger } = this.options;
    let failures = 0;
    while (!this.stopped) {
      this.pendingWake = false;
      let published = 0;
      try {
        if (this.options.isConnected() && !this.options.faults?.relayPaused) {
          published = await this.publishBatch();
        } else {
          await this.markConfirmed();
        }
        failures = 0;
      } catch (err) {
        failures += 1;
        logger.warn({ err }, 'outbox relay batch failed; will retry');
      }
      if (this.stopped) break;
      // A full batch means more may be waiting; otherwise sleep until woken or the poll.
      if (published === this.batchSize || this.pendingWake) continue;
      if (this.confirmed.length > 0 && failures === 0) {
        // A commit soon wakes the relay, and its claim carries the marks; or they go alone.
        await this.sleep(this.markDelayMs);
        if (this.stopped) break;
        if (this.pendingWake) continue;
        await this.markConfirmed().catch((err: unknown) =>
          logger.warn({ err }, 'could not mark confirmed outbox rows sent; will retry'),
        );
        if (this.pendingWake) continue;
      }
      await this.sleep(failures > 0 ? Math.min(10_000, 250 * 2 ** failures) : this.pollIntervalMs);
    }
    await this.markConfirmed().catch((err: unknown) =>
      logger.warn({ err }, 'could not mark the last confirmed outbox rows sent'),
    );
  }

  /** Sleeps until `wake()`, `stop()` or `ms` have passed. */
  private sleep(ms: number): Promise<void> {
    this.wakeUp = new AbortController();
    return delay(ms, this.wakeUp.signal);
  }

  /** Publishes one batch; returns how many rows it handled. */
  async publishBatch(): Promise<number> {
    const { db, publisher, logger, onReturned } = this.options;
    // Marks the rows confirmed in the last cycle and claims the next ones, in one statement.
    const marking = this.confirmed;
    const rows = await db.$queryRawUnsafe<OutboxRow[]>(
      RELAY_CLAIM,
      this.batchSize,
      this.leaseMs,
      marking.map((row) => row.id),
      marking.map((row) => row.at.toISOString()),
    );
    this.confirmed = this.confirmed.slice(marking.length);
    if (rows.length === 0) return 0;
    rows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    const sent: { id: string; at: Date }[] = [];
    const failed: { id: OutboxRow['id']; error: string }[] = [];
    await Promise.all(
      rows.map(async (row) => {
        const stored = toMessage(row);
        try {
          const mandatory = Messages[stored.type].kind === 'command';
          const { returned, message } = await withSpan(
            `${stored.exchange} publish`,
            {
              kind: SpanKind.PRODUCER,
              parent: stored.properties.traceparent,
              attributes: {
                'messaging.system': 'rabbitmq',
                'messaging.operation.type': 'send',
                'messaging.destination.name': stored.exchange,
                'messaging.rabbitmq.destination.routing_key': stored.routingKey,
                'messaging.message.id': stored.messageId,
                'messaging.message.conversation_id': stored.properties.correlationId,
                'message.type': stored.type,
              },
            },
            async (span) => {
              // With tracing on, the receiver's span becomes a child of this publish.
              const traceparent = traceparentOf(span) ?? stored.properties.traceparent;
              const message = { ...stored, properties: { ...stored.properties, traceparent } };
              return { ...(await publisher.publish(message, { mandatory })), message };
            },
          );
          this.options.faults?.afterConfirm();
          if (returned) {
            logger.warn(
              {
                correlationId: message.properties.correlationId,
                type: message.type,
                messageId: message.messageId,
              },
              'message returned unroutable',
            );
            await onReturned?.(message);
          }
          sent.push({ id: String(row.id), at: new Date() });
        } catch (err) {
          failed.push({ id: row.id, error: err instanceof Error ? err.message : String(err) });
        }
      }),
    );
    this.confirmed.push(...sent);
    if (failed.length > 0) await this.markConfirmed();
    for (const { id, error } of failed) {
      // Release the lease so the next batch retries it, not only after the lease runs out.
      await db.$executeRawUnsafe(
        `UPDATE outbox_messages SET locked_until = NULL, last_error = $2 WHERE id = $1::bigint`,
        String(id),
        error,
      );
    }
    if (failed.length > 0) {
      logger.warn(
        { failed: failed.length, error: failed[0]?.error },
        'outbox publish failed; will retry',
      );
      throw new Error(`${failed.length} outbox messages could not be published`);
    }
    return rows.length;
  }

  /** Marks the rows confirmed since the last claim as sent. */
  private async markConfirmed(): Promise<void> {
    if (this.confirmed.length === 0) return;
    const marking = this.confirmed;
    await this.options.db.$executeRawUnsafe(
      RELAY_MARK,
      marking.map((row) => row.id),
      marking.map((row) => row.at.toISOString()),
    );
    this.confirmed = this.confirmed.slice(marking.length);
  }

  /** Messages written but not yet confirmed (those confirmed and not yet marked left out). */
  async backlog(): Promise<number> {
    const [row] = await this.options.db.$queryRawUnsafe<{ count: bigint }[]>(
      'SELECT count(*) AS count FROM outbox_messages WHERE sent_at IS NULL',
    );
    return Math.max(0, Number(row?.count ?? 0) - this.confirmed.length);
  }
}

function toMessage(row: OutboxRow): OutgoingMessage {
  return {
    messageId: row.message_id,
    type: row.type as OutgoingMessage['type'],
    exchange: row.exchange,
    routingKey: row.routing_key,
    payload: row.payload,
    properties: row.properties,
  };
}
