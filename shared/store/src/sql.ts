import type { OutgoingMessage } from '@app/broker';

/**
 * How statements that write to the outbox tell its relay, carried by the database client
 * the relay reads (`SqlClient.outbox`). The one-statement writes (`writeManyOnce`) ask for
 * a `lease()` first: given one, they write their rows leased and, once committed, hand the
 * messages over (`take`), and the relay publishes them without claiming them first, one
 * statement less per relay cycle (most cycles carry a message or two). Without a lease
 * (the relay is disconnected, paused or behind), and after a transaction of its own that
 * used `addToOutbox`, a writer calls `wake()`, and the relay claims what is unsent.
 */
export interface OutboxHandoff {
  /** The lease to write handed-over rows with, in ms; undefined when the relay takes none now. */
  lease(): number | undefined;
  /** Messages committed with `lease()`'s lease, for the relay to publish. */
  take(messages: readonly OutgoingMessage[]): void;
  /** Asks the relay to claim unsent rows now (after a commit that wrote unleased rows). */
  wake(): void;
}

/**
 * The part of a Prisma client (or interactive transaction client) that the outbox and
 * inbox need. Structural, so each service passes its own generated client.
 */
export interface SqlClient {
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
  /**
   * The relay of this database's outbox, which statements written through this client
   * tell of the messages they commit (`writeManyOnce`, `createOnce`). A service's
   * messaging sets it when it starts its relay; a transaction's client has none.
   */
  outbox?: OutboxHandoff | undefined;
}

/** Undefined when the database answers, otherwise why not (for `/health/ready`). */
export async function databaseProblem(db: SqlClient): Promise<string | undefined> {
  try {
    await db.$queryRawUnsafe('SELECT 1');
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return (
      message.split('\n').find((line) => line.trim() !== '') ??
      (err as { code?: string }).code ??
      'unreachable'
    );
  }
}
