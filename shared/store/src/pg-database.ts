import { Pool, type PoolClient, type QueryConfig } from 'pg';
import type { OutboxHandoff, SqlClient } from './sql';

/**
 * A service's Postgres pool, for the transactions on the messaging path (state change,
 * inbox and outbox in one transaction) and the relay's statements. Raw SQL on the driver
 * costs a small part of the CPU of an ORM interactive transaction, the largest cost per
 * order that `make bench` found; the services keep Prisma (on this same pool) for their
 * schema, migrations and HTTP reads.
 */
export class PgDatabase implements SqlClient {
  readonly pool: Pool;
  /** The relay of this database's outbox, once the service's messaging started it (see `SqlClient`). */
  outbox: OutboxHandoff | undefined;

  constructor(url: string, poolSize: number) {
    this.pool = new Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5_000 });
    // An idle connection that breaks is dropped by the pool; the next query opens another.
    this.pool.on('error', () => undefined);
  }

  async $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number> {
    return (await this.pool.query(prepared(query, values))).rowCount ?? 0;
  }

  async $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T> {
    return (await this.pool.query(prepared(query, values))).rows as T;
  }

  /** Runs `work` in one transaction on one connection: committed if it resolves, else rolled back. */
  async transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // The pool listens for errors only on idle connections. One that breaks while checked
    // out (Postgres restarted, the link cut) emits 'error' here; unheard, it would crash
    // the process. The failed query rejects too, and the transaction takes the retry path.
    let broken: Error | undefined;
    const onError = (err: Error): void => {
      broken = err;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await work(sqlOf(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      if (!broken)
        await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      throw err;
    } finally {
      client.off('error', onError);
      // A connection that broke or could not roll back is closed, not handed to the next caller.
      client.release(broken);
    }
  }

  async end(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}

const sqlOf = (client: PoolClient): SqlClient => ({
  $executeRawUnsafe: async (query, ...values) =>
    (await client.query(prepared(query, values))).rowCount ?? 0,
  $queryRawUnsafe: async <T>(query: string, ...values: unknown[]) =>
    (await client.query(prepared(query, values))).rows as T,
});

const statementNames = new Map<string, string>();

/**
 * Statements named at most. A batch's statement (`writeManyOnce`) has a text per shape
 * (how many writes, deliveries and messages), and shapes are many: named, each would stay
 * prepared on every connection for the connection's life, in Postgres's memory and here.
 * The first ones named are the code's own fixed statements, met in the first seconds.
 */
const MAX_NAMED_STATEMENTS = 200;

/**
 * Names each distinct SQL text, so that `pg` prepares it once per connection and Postgres
 * parses and plans it once, not on every call (about a third of Postgres's CPU per
 * transaction here). The texts are the code's own, with values as parameters; past
 * `MAX_NAMED_STATEMENTS` a new text runs unnamed (parsed each time, kept nowhere).
 */
function prepared(text: string, values: unknown[]): QueryConfig {
  let name = statementNames.get(text);
  if (name === undefined) {
    if (statementNames.size >= MAX_NAMED_STATEMENTS) return { text, values };
    name = `s${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  return { name, text, values };
}
