import type { z } from 'zod';
import { loadServiceConfig, serviceEnvSchema } from '@app/runtime';

export const ConfigSchema = serviceEnvSchema('shipping', 3003);

export type Config = z.infer<typeof ConfigSchema>;

export const readConfig = (env: NodeJS.ProcessEnv = process.env): Config =>
  loadServiceConfig('shipping', ConfigSchema, env);
