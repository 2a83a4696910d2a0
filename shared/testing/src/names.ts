import { randomBytes } from 'node:crypto';

/** A short name unique to this test file's run; it marks vhosts and databases as test ones. */
export function uniqueTestName(label: string): string {
  const clean = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 20);
  return `test_${clean}_${process.pid}_${randomBytes(3).toString('hex')}`;
}
