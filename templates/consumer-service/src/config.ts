import { z } from 'zod';
import { loadServiceConfig, serviceEnvSchema } from '@app/runtime';

export const ConfigSchema = serviceEnvSchema('__name__', __port__).extend({
  /**
   * Catch up from Order's event history (`order.events.history`) before consuming the live
   * queue, so that orders placed before __Name__ existed earn points too (docs/backfill.md).
   * Done once per queue; on by default, as a service added late is what it is for.
   */
  __NAME___BACKFILL: z.stringbool().default(true),
});

export type Config = z.infer<typeof ConfigSchema>;

export const readConfig = (env: NodeJS.ProcessEnv = process.env): Config =>
  loadServiceConfig('__name__', ConfigSchema, env);
