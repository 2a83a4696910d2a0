import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';

// The JS schema engine and the driver adapter keep the Prisma CLI offline-capable:
// the native engines it would otherwise download cannot be fetched on every machine.
const connectionString =
  process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/shipping';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  adapter: async () => new PrismaPg({ connectionString }),
});
