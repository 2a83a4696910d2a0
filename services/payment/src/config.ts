import type { z } from 'zod';
import { loadServiceConfig, serviceEnvSchema } from '@app/runtime';

export const ConfigSchema = serviceEnvSchema('payment', 3005);

export type Config = z.infer<typeof ConfigSchema>;

export const readConfig = (env: NodeJS.ProcessEnv = process.env): Config =>
  loadServiceConfig('payment', ConfigSchema, env);
