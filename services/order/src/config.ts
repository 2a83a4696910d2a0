import type { z } from 'zod';
import { MessagingStyleSchema } from '@app/contracts';
import { env, loadServiceConfig, serviceEnvSchema } from '@app/runtime';

export const ConfigSchema = serviceEnvSchema('order', 3001).extend({
  /** The style of orders that do not choose one. */
  MESSAGING_STYLE: MessagingStyleSchema.default('event'),
  /**
   * Admission control: `POST /orders` answers 503 with `Retry-After` while this many orders
   * are open (accepted, not yet COMPLETED, CANCELLED or FAILED), so overload queues a
   * bounded backlog instead of starving the consumers that complete it. 500 is two to
   * three seconds of what this system completes on two cores: measured with `make bench`,
   * twice the sustained rate completed 125% of it with 500, 101% with 1,000 and 74% with
   * 2,000 (the backlog builds for longer before refusals begin). The demo's spikes (300)
   * fit under it.
   */
  MAX_OPEN_ORDERS: env.positiveInt(500),
  /** How often the open orders are counted for admission control. */
  OPEN_ORDERS_COUNT_INTERVAL_MS: env.positiveInt(200),
});

export type Config = z.infer<typeof ConfigSchema>;

export const readConfig = (env: NodeJS.ProcessEnv = process.env): Config =>
  loadServiceConfig('order', ConfigSchema, env);
