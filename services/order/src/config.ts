import type { z } from 'zod';
import { MessagingStyleSchema } from '@app/contracts';
import { loadServiceConfig, serviceEnvSchema } from '@app/runtime';

export const ConfigSchema = serviceEnvSchema('order', 3001).extend({
  /** The style of orders that do not choose one. */
  MESSAGING_STYLE: MessagingStyleSchema.default('event'),
});

export type Config = z.infer<typeof ConfigSchema>;

export const readConfig = (env: NodeJS.ProcessEnv = process.env): Config =>
  loadServiceConfig('order', ConfigSchema, env);
