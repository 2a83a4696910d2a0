import type { TestDatabase } from '@app/testing';

/** `SELECT count(*) FROM <from>`, as a number; `from` may carry a WHERE clause. */
export async function countRows(
  db: TestDatabase,
  from: string,
  params: unknown[] = [],
): Promise<number> {
  const [row] = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${from}`, params);
  return Number(row?.n);
}
