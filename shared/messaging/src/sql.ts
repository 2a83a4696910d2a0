/**
 * The part of a Prisma client (or interactive transaction client) that the outbox and
 * inbox need. Structural, so each service passes its own generated client.
 */
export interface SqlClient {
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
}

/** Undefined when the database answers, otherwise why not (for `/health/ready`). */
export async function databaseProblem(db: SqlClient): Promise<string | undefined> {
  try {
    await db.$queryRawUnsafe('SELECT 1');
    return undefined;
  } catch (err) {
    return err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
  }
}
