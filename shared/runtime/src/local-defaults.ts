/**
 * The one place for local-only default credentials: a developer machine or CI, where
 * Postgres trusts local connections and RabbitMQ's `guest` may log in from localhost.
 * Never use them elsewhere. A service started with NODE_ENV=production refuses to fall
 * back to them: its RABBITMQ_URL and DATABASE_URL must be set explicitly.
 */
export const LOCAL_DEFAULTS = {
  /** The RabbitMQ vhost the services share, with one user per service (infra/rabbitmq). */
  brokerVhost: 'messaging',
  /** Used where per-service users could not be set up (no rabbitmqctl): one shared user. */
  sharedBrokerUrl: 'amqp://guest:guest@127.0.0.1:5672',
  brokerPassword: (service: string): string => `${service}-local-only`,
  /** Each service's Postgres role, which may connect to its own database only. */
  databaseRole: (service: string): string => `${service}_service`,
  databasePassword: (service: string): string => `${service}-local-only`,
  databaseHost: '127.0.0.1:5432',
} as const;

/** The local default broker URL of a service's own user on the shared vhost. */
export function localBrokerUrl(service: string, host = '127.0.0.1:5672'): string {
  return `amqp://${service}:${LOCAL_DEFAULTS.brokerPassword(service)}@${host}/${LOCAL_DEFAULTS.brokerVhost}`;
}

/** The local default database URL of a service: its own role on its own database. */
export function localDatabaseUrl(
  service: string,
  host: string = LOCAL_DEFAULTS.databaseHost,
): string {
  return `postgresql://${LOCAL_DEFAULTS.databaseRole(service)}:${LOCAL_DEFAULTS.databasePassword(service)}@${host}/${service}`;
}
