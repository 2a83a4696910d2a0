import { z } from 'zod';
import { loadServiceConfig, serviceEnvSchema } from '@app/runtime';

export const ConfigSchema = serviceEnvSchema('statistics', 3004).extend({
  /**
   * Catch up from Order's event history (`order.events.history`) before consuming the
   * queues, so a Statistics deployed late counts the orders placed before it existed
   * (docs/backfill.md). Done once per queue; off by default.
   */
  STATISTICS_BACKFILL: z.stringbool().default(false),
});

export type Config = z.infer<typeof ConfigSchema>;

export const readConfig = (env: NodeJS.ProcessEnv = process.env): Config =>
  loadServiceConfig('statistics', ConfigSchema, env);
