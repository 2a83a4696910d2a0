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
    const message = err instanceof Error ? err.message : String(err);
    return (
      message.split('\n').find((line) => line.trim() !== '') ??
      (err as { code?: string }).code ??
      'unreachable'
    );
  }
}
