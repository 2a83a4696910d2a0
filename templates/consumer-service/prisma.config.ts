import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { defineConfig } from 'prisma/config';

// The JS schema engine and the driver adapter keep the Prisma CLI offline-capable:
// the native engines it would otherwise download cannot be fetched on every machine.
const connectionString =
  process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/__name__';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  // A short idle timeout lets the CLI exit once done, instead of waiting 10 s for pg's
  // default idle timeout to close the pool's connection.
  adapter: async () =>
    new PrismaPg(new Pool({ connectionString, allowExitOnIdle: true, idleTimeoutMillis: 200 })),
});
