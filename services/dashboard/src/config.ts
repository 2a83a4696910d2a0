import { z } from 'zod';
import { ServiceNames, type ServiceName } from '@app/contracts';
import { ObserverQueue } from '@app/broker';
import { env, loadConfig, localBrokerUrl } from '@app/runtime';

const serviceUrl = (port: number) => env.url(['http', 'https'], `http://127.0.0.1:${port}`);

const DashboardEnvSchema = z.object({
  NODE_ENV: env.nodeEnv(),
  PORT: env.port(3000),
  /** Only this machine by default: the page can place orders and flip fault switches. */
  HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: env.logLevel(),
  /** The dashboard's own broker user, which may only read the observer queue. */
  RABBITMQ_URL: env.url(['amqp', 'amqps'], localBrokerUrl(ObserverQueue.user)),
  /**
   * The management API, for queue depths and rates of every queue (retry companions too).
   * Default: port 15672 on the broker's host, with the AMQP user; without it the dashboard
   * reads the services' /metrics instead.
   */
  RABBITMQ_MANAGEMENT_URL: env
    .url(['http', 'https'], 'http://derived-from-rabbitmq-url')
    .optional(),
  ORDER_URL: serviceUrl(3001),
  INVOICING_URL: serviceUrl(3002),
  SHIPPING_URL: serviceUrl(3003),
  STATISTICS_URL: serviceUrl(3004),
  PAYMENT_URL: serviceUrl(3005),
  /** Passed on to the services' /admin/faults where they want a bearer token (containers). */
  FAULT_SWITCHES_TOKEN: z.string().optional(),
  /** How often the page is updated. */
  REFRESH_MS: z.coerce.number().int().min(100).max(60_000).default(1_000),
  /** How long one look at a service or the broker may take before it counts as down. */
  PROBE_TIMEOUT_MS: z.coerce.number().int().min(50).max(30_000).default(2_500),
});

export type Config = z.infer<typeof DashboardEnvSchema> & {
  serviceUrls: Record<ServiceName, string>;
  managementUrl: string;
};

export function readConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = loadConfig(DashboardEnvSchema, source);
  const serviceUrls = Object.fromEntries(
    ServiceNames.map((service) => [service, parsed[`${service.toUpperCase()}_URL` as 'ORDER_URL']]),
  ) as Record<ServiceName, string>;
  return {
    ...parsed,
    serviceUrls,
    managementUrl: parsed.RABBITMQ_MANAGEMENT_URL ?? managementUrlOf(parsed.RABBITMQ_URL),
  };
}

/** `http://<user>:<password>@<broker host>:15672`, from the AMQP URL. */
function managementUrlOf(amqpUrl: string): string {
  const amqp = new URL(amqpUrl);
  const url = new URL(`http://${amqp.hostname}:15672`);
  url.username = amqp.username || 'guest';
  url.password = amqp.password || 'guest';
  return url.toString();
}

/** The vhost named in the AMQP URL (`/` when none). */
export function vhostOf(amqpUrl: string): string {
  return decodeURIComponent(new URL(amqpUrl).pathname.slice(1)) || '/';
}
