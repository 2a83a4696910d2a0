import { PrismaPg } from '@prisma/adapter-pg';
import { PgDatabase } from '@app/store';
import { PrismaClient } from '../generated/prisma/client';

/**
 * The service's database: raw SQL on the `pg` pool for the messaging path (see
 * PgDatabase), and Prisma, on the same pool, for the HTTP reads.
 */
export class Database extends PgDatabase {
  readonly prisma = new PrismaClient({ adapter: new PrismaPg(this.pool) });

  async $disconnect(): Promise<void> {
    await this.prisma.$disconnect();
    await this.end();
  }
}

export function createDatabase(url: string, poolSize: number): Database {
  return new Database(url, poolSize);
}
