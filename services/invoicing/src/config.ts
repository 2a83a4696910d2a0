import type { z } from 'zod';
import {
  loadConfig,
  refuseFaultsInProduction,
  refuseLocalDefaultsInProduction,
  serviceEnvSchema,
} from '@app/runtime';

export const ConfigSchema = serviceEnvSchema('invoicing', 3002);

export type Config = z.infer<typeof ConfigSchema>;

export const readConfig = (env: NodeJS.ProcessEnv = process.env): Config =>
  loadConfig(ConfigSchema, env, [refuseFaultsInProduction, refuseLocalDefaultsInProduction]);
