import type { Logger } from '@app/runtime';
import { delay } from '@app/runtime';
import { Messages } from '@app/contracts';
import type { OutgoingMessage, OutgoingProperties } from '@app/broker';
import type { FaultSwitches } from '@app/broker';
import type { Publisher } from '@app/broker';
import { SpanKind, traceparentOf, withSpan } from '@app/telemetry';
import type { OutboxHandoff, SqlClient } from './sql';

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
 *
 * Rows given a lease (`outboxRows`'s `leaseMs`) are written claimed already, for the
 * relay they are handed to after the commit (see `OutboxHandoff`): no other claim takes
 * them while the lease lasts.
 */
export function outboxInsert(rowsParameter: string): string {
  return `INSERT INTO outbox_messages (message_id, type, exchange, routing_key, payload, properties,
                 locked_until, attempts)
          SELECT m.message_id, m.type, m.exchange, m.routing_key, m.payload, m.properties,
                 now() + m.lease_ms * interval '1 millisecond',
                 CASE WHEN m.lease_ms IS NULL THEN 0 ELSE 1 END
            FROM jsonb_to_recordset(${rowsParameter}::jsonb) AS m(message_id uuid, type text,
                 exchange text, routing_key text, payload jsonb, properties jsonb, lease_ms int)`;
}

/** The parameter of `outboxInsert`: the messages as outbox rows, in JSON, leased for `leaseMs` if given. */
export function outboxRows(messages: readonly OutgoingMessage[], leaseMs?: number): string {
  return JSON.stringify(
    messages.map((message) => ({
      message_id: message.messageId,
      type: message.type,
      exchange: message.exchange,
      routing_key: message.routingKey,
      payload: message.payload,
      properties: message.properties,
      lease_ms: leaseMs ?? null,
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
 * The relay's claim: marks the rows confirmed since the last statement ($3, $4: message
 * ids and confirm times) and leases the next unsent ones ($1 at most, for $2 ms), oldest
 * first, skipping rows another relay holds (or a writer handed over, leased). The unsent
 * rows are read through `outbox_messages_unsent_idx` (each service's migrations), which
 * holds only them. The marked rows are picked by `message_id = ANY(...)` as well as by the
 * join with their times: a prepared statement keeps the plan it was first given, and one
 * planned on an empty outbox without that condition joins by a sequential scan of the
 * whole table, however large it grows (`outbox-claim.test.ts`).
 */
export const RELAY_CLAIM = `WITH marked AS (
     UPDATE outbox_messages o SET sent_at = m.at, locked_until = NULL, last_error = NULL
       FROM unnest($3::uuid[], $4::timestamptz[]) AS m(message_id, at)
      WHERE o.message_id = ANY($3::uuid[]) AND o.message_id = m.message_id)
   UPDATE outbox_messages SET locked_until = now() + ($2::int * interval '1 millisecond'),
          attempts = attempts + 1
    WHERE id IN (SELECT id FROM outbox_messages
                  WHERE sent_at IS NULL AND (locked_until IS NULL OR locked_until < now())
                    AND message_id <> ALL($3::uuid[])
                  ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
      AND ${WITHOUT_WAITING_FOR_THE_DISK}
    RETURNING id, message_id, type, exchange, routing_key, payload, properties`;

/** The relay's mark on its own ($1, $2: message ids and confirm times), as in `RELAY_CLAIM`. */
export const RELAY_MARK = `UPDATE outbox_messages o SET sent_at = m.at, locked_until = NULL, last_error = NULL
    FROM unnest($1::uuid[], $2::timestamptz[]) AS m(message_id, at)
   WHERE o.message_id = ANY($1::uuid[]) AND o.message_id = m.message_id
     AND ${WITHOUT_WAITING_FOR_THE_DISK}`;

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
  /** Fallback poll: the hand-over and `wake()` after each commit are the fast paths. */
  pollIntervalMs?: number;
  /** A claimed row not marked sent by then (its relay died) is claimed again; a handed-over one after at most 5 s. */
  leaseMs?: number;
  /** How long confirmed rows wait for a statement to carry their mark (see `confirmed`). */
  markDelayMs?: number;
  /** Called when the broker returned an unroutable `mandatory` message. */
  onReturned?: (message: OutgoingMessage) => Promise<void>;
  faults?: FaultSwitches;
}

/**
 * Handed-over messages waiting to be published, in batches, past which writers get no
 * lease and their rows wait for a claim: the outbox table, not memory, holds a backlog.
 */
const MAX_HANDED_OVER_BATCHES = 10;

/**
 * The lease of a handed-over row (at most the claim's `leaseMs`). Its relay publishes it
 * within milliseconds, or lets go of it after half of this (`dropStale`); what the lease
 * covers is a crash in between, whose rows wait this long after the restart before a claim
 * takes them. Shorter than a claim's lease, which must cover publishing a whole batch.
 */
const HANDOFF_LEASE_MS = 5_000;

/**
 * Publishes outbox rows with publisher confirms and marks them sent only after the
 * confirm: a crash between commit and publish loses nothing, it publishes again (the
 * receiver's inbox absorbs the duplicate). It publishes only while connected, so the
 * outbox table, not an in-memory buffer, holds what waits during a broker outage.
 * No database transaction is held while talking to the broker: rows are leased first,
 * either by the relay's claim or, for rows handed over (`OutboxHandoff`), by the statement
 * that wrote them.
 */
export class OutboxRelay implements OutboxHandoff {
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly handoffLeaseMs: number;
  private readonly markDelayMs: number;
  private wakeUp = new AbortController();
  private pendingWake = false;
  /** A writer wrote rows without a lease (`wake()`), or the last claim was full. */
  private claimDue = true;
  private lastClaimAt = 0;
  /** Messages committed leased and handed over by their writers, not yet published. */
  private handedOver: { message: OutgoingMessage; takenAt: number }[] = [];
  /**
   * Messages published and confirmed, not yet marked sent, with the time of their confirm
   * (which the mark writes as `sent_at`). Their mark rides along with the next claim, or
   * goes on its own once the oldest has waited `markDelayMs`: one statement for the marks
   * of many messages, instead of one per relay cycle. A crash before the mark means what a
   * crash between confirm and mark always meant: they are published again after their
   * lease, and the receivers' inboxes absorb them.
   */
  private confirmed: { messageId: string; at: Date }[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 100;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.handoffLeaseMs = Math.min(this.leaseMs, HANDOFF_LEASE_MS);
    this.markDelayMs = options.markDelayMs ?? 100;
  }

  start(): void {
    this.loop ??= this.run();
  }

  lease(): number | undefined {
    if (this.stopped || !this.canPublish()) return undefined;
    if (this.handedOver.length >= this.batchSize * MAX_HANDED_OVER_BATCHES) return undefined;
    return this.handoffLeaseMs;
  }

  take(messages: readonly OutgoingMessage[]): void {
    if (messages.length === 0) return;
    const takenAt = Date.now();
    this.handedOver.push(...messages.map((message) => ({ message, takenAt })));
    this.pendingWake = true;
    this.wakeUp.abort();
  }

  /** Asks the relay to claim unsent rows now (after a commit that wrote unleased rows). */
  wake(): void {
    this.claimDue = true;
    this.pendingWake = true;
    this.wakeUp.abort();
  }

  /** Finishes the batch in flight and publishes what was handed over, then stops. */
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
      let more = false;
      try {
        this.dropStale();
        if (this.canPublish()) {
          more = (await this.publishHandedOver()) === this.batchSize;
          if (this.claimDue || Date.now() - this.lastClaimAt >= this.pollIntervalMs) {
            this.claimDue = false;
            if ((await this.publishBatch()) === this.batchSize) this.claimDue = more = true;
          }
        }
        if (this.markDue()) await this.markConfirmed();
        failures = 0;
      } catch (err) {
        failures += 1;
        this.claimDue = true;
        logger.warn({ err }, 'outbox relay batch failed; will retry');
      }
      if (this.stopped) break;
      // A full batch means more may be waiting; otherwise sleep until woken, a mark or the poll.
      if ((more || this.pendingWake) && failures === 0) continue;
      await this.sleep(
        failures > 0
          ? Math.min(10_000, 250 * 2 ** failures)
          : Math.min(this.untilNextClaim(), this.untilMarkDue()),
      );
    }
    await this.finish().catch((err: unknown) =>
      logger.warn(
        { err },
        'could not finish the outbox relay; its rows are claimed again after their lease',
      ),
    );
  }

  /** On stop: publishes what was handed over (or releases its lease) and marks what was confirmed. */
  private async finish(): Promise<void> {
    if (this.handedOver.length > 0) {
      if (this.canPublish()) {
        while ((await this.publishHandedOver()) > 0);
      } else {
        await this.release(
          this.handedOver.map(({ message }) => ({ messageId: message.messageId })),
        );
        this.handedOver = [];
      }
    }
    await this.markConfirmed();
  }

  /** Connected and not paused by the fault switch: the relay publishes only then. */
  private canPublish(): boolean {
    return this.options.isConnected() && !this.options.faults?.relayPaused;
  }

  /** Sleeps until `wake()`, `take()`, `stop()` or `ms` have passed. */
  private sleep(ms: number): Promise<void> {
    this.wakeUp = new AbortController();
    return delay(ms, this.wakeUp.signal);
  }

  /**
   * Lets go of handed-over messages that waited half their lease here (the relay
   * disconnected or far behind): the lease runs out before they would be confirmed, and
   * then a claim takes them; published here as well, they would go twice.
   */
  private dropStale(): void {
    const oldest = Date.now() - this.handoffLeaseMs / 2;
    if ((this.handedOver[0]?.takenAt ?? oldest) >= oldest) return;
    const kept = this.handedOver.filter(({ takenAt }) => takenAt >= oldest);
    this.options.logger.warn(
      { messages: this.handedOver.length - kept.length },
      'handed-over outbox messages waited too long; a claim takes them after their lease',
    );
    this.handedOver = kept;
  }

  /** Publishes up to a batch of handed-over messages; returns how many. */
  private async publishHandedOver(): Promise<number> {
    const batch = this.handedOver.splice(0, this.batchSize).map(({ message }) => message);
    if (batch.length > 0) await this.publishAll(batch);
    return batch.length;
  }

  /** Claims and publishes one batch of unsent rows; returns how many rows it claimed. */
  async publishBatch(): Promise<number> {
    // Marks the rows confirmed before and claims the next ones, in one statement.
    const marking = this.confirmed;
    const rows = await this.options.db.$queryRawUnsafe<OutboxRow[]>(
      RELAY_CLAIM,
      this.batchSize,
      this.leaseMs,
      marking.map((row) => row.messageId),
      marking.map((row) => row.at.toISOString()),
    );
    this.lastClaimAt = Date.now();
    this.confirmed = this.confirmed.slice(marking.length);
    if (rows.length === 0) return 0;
    rows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    await this.publishAll(rows.map(toMessage));
    return rows.length;
  }

  /**
   * Publishes messages together and awaits their confirms. The confirmed wait for their
   * mark (`confirmed`); a failed one has its lease released, so the next claim retries it
   * instead of waiting for the lease to run out, and the batch throws.
   */
  private async publishAll(messages: readonly OutgoingMessage[]): Promise<void> {
    const { logger } = this.options;
    const failed: { messageId: string; error: string }[] = [];
    await Promise.all(
      messages.map(async (stored) => {
        try {
          await this.publishOne(stored);
          this.confirmed.push({ messageId: stored.messageId, at: new Date() });
        } catch (err) {
          const error = err instanceof Error ? err.message : String(err);
          failed.push({ messageId: stored.messageId, error });
        }
      }),
    );
    if (failed.length === 0) return;
    await this.markConfirmed();
    await this.release(failed);
    logger.warn(
      { failed: failed.length, error: failed[0]?.error },
      'outbox publish failed; will retry',
    );
    throw new Error(`${failed.length} outbox messages could not be published`);
  }

  private async publishOne(stored: OutgoingMessage): Promise<void> {
    const { publisher, logger, onReturned } = this.options;
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
  }

  /** Releases the lease of unsent rows (noting why, if given), so the next claim takes them. */
  private async release(rows: { messageId: string; error?: string }[]): Promise<void> {
    await this.options.db.$executeRawUnsafe(
      `UPDATE outbox_messages o SET locked_until = NULL, last_error = coalesce(r.error, o.last_error)
         FROM unnest($1::uuid[], $2::text[]) AS r(message_id, error)
        WHERE o.message_id = ANY($1::uuid[]) AND o.message_id = r.message_id AND o.sent_at IS NULL`,
      rows.map((row) => row.messageId),
      rows.map((row) => row.error ?? null),
    );
  }

  /** Ms until the poll's next claim (a whole interval while the relay cannot publish). */
  private untilNextClaim(): number {
    if (!this.canPublish()) return this.pollIntervalMs;
    return Math.max(0, this.lastClaimAt + this.pollIntervalMs - Date.now());
  }

  /** True when the oldest confirmed message has waited `markDelayMs`, or a batch waits. */
  private markDue(): boolean {
    return this.untilMarkDue() === 0 || this.confirmed.length >= this.batchSize;
  }

  /** Ms until the oldest confirmed message has waited `markDelayMs` (Infinity: none waits). */
  private untilMarkDue(): number {
    const oldest = this.confirmed[0];
    if (!oldest) return Number.POSITIVE_INFINITY;
    return Math.max(0, oldest.at.getTime() + this.markDelayMs - Date.now());
  }

  /** Marks the messages confirmed so far as sent. */
  private async markConfirmed(): Promise<void> {
    if (this.confirmed.length === 0) return;
    const marking = this.confirmed;
    await this.options.db.$executeRawUnsafe(
      RELAY_MARK,
      marking.map((row) => row.messageId),
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
