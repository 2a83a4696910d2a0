import { z } from 'zod';
import {
  loadConfig,
  refuseFaultsInProduction,
  refuseLocalDefaultsInProduction,
  serviceEnvSchema,
} from '@app/runtime';

export const ConfigSchema = serviceEnvSchema('order', 3001).extend({
  /** The style of orders that do not choose one. */
  MESSAGING_STYLE: z.enum(['event', 'command']).default('event'),
});

export type Config = z.infer<typeof ConfigSchema>;

export const readConfig = (env: NodeJS.ProcessEnv = process.env): Config =>
  loadConfig(ConfigSchema, env, [refuseFaultsInProduction, refuseLocalDefaultsInProduction]);
