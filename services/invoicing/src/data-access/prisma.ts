import { PrismaPg } from '@prisma/adapter-pg';
import { Pool, type PoolClient } from 'pg';
import type { SqlClient } from '@app/messaging';
import { PrismaClient } from '../generated/prisma/client';

/**
 * The service's database: Prisma for the HTTP reads, and the `pg` pool beneath it for the
 * transactions every message goes through (and for the outbox relay). Raw SQL
 * on the driver costs a small part of the CPU of a Prisma interactive transaction, which
 * was the largest cost per order in `make bench` (README, Performance). One pool serves both.
 */
export class Database implements SqlClient {
  readonly prisma: PrismaClient;
  private readonly pool: Pool;

  constructor(url: string, poolSize: number) {
    this.pool = new Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5_000 });
    // An idle connection that breaks is dropped by the pool; the next query opens another.
    this.pool.on('error', () => undefined);
    this.prisma = new PrismaClient({ adapter: new PrismaPg(this.pool) });
  }

  async $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number> {
    return (await this.pool.query(query, values)).rowCount ?? 0;
  }

  async $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T> {
    return (await this.pool.query(query, values)).rows as T;
  }

  /** Runs `work` in one transaction on one connection: committed if it resolves, else rolled back. */
  async transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(sqlOf(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      throw err;
    } finally {
      // A connection that could not roll back is closed, not handed to the next caller.
      client.release(broken);
    }
  }

  async $disconnect(): Promise<void> {
    await this.prisma.$disconnect();
    if (!this.pool.ended) await this.pool.end();
  }
}

const sqlOf = (client: PoolClient): SqlClient => ({
  $executeRawUnsafe: async (query, ...values) => (await client.query(query, values)).rowCount ?? 0,
  $queryRawUnsafe: async <T>(query: string, ...values: unknown[]) =>
    (await client.query(query, values)).rows as T,
});

export function createDatabase(url: string, poolSize: number): Database {
  return new Database(url, poolSize);
}
