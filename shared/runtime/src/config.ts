import { z } from 'zod';
import { LOCAL_DEFAULTS, localDatabaseUrl } from './local-defaults';

/** Raised when the environment does not describe a runnable service; lists every problem. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment once, at start-up, and reports every problem at once rather
 * than the first one. Empty strings count as unset, so `FOO=` falls back to the default.
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
  checks: ((env: NodeJS.ProcessEnv) => string[])[] = [],
): z.infer<S> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = schema.safeParse(cleaned);
  const problems = [
    ...(result.success
      ? []
      : result.error.issues.map(
          (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
        )),
    ...checks.flatMap((check) => check(env)),
  ];
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return result.data;
}

/** Common schema pieces for the environment of a service. */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback),
  url: (protocols: string[], fallback: string) =>
    z
      .string()
      .default(fallback)
      .refine(
        (value) => {
          try {
            return protocols.includes(new URL(value).protocol.replace(/:$/, ''));
          } catch {
            return false;
          }
        },
        { message: `must be a URL with scheme ${protocols.join(' or ')}` },
      ),
  /**
   * One URL, or several separated by commas (a broker cluster's nodes: a client fails over
   * between them); each entry is checked, and a bad one is named in the error.
   */
  urlList: (protocols: string[], fallback: string) =>
    z
      .string()
      .default(fallback)
      .superRefine((value, ctx) => {
        const entries = splitUrlList(value);
        const message = `must be a URL with scheme ${protocols.join(' or ')}`;
        if (entries.length <= 1) {
          if (!hasProtocol(entries[0] ?? '', protocols)) ctx.addIssue({ code: 'custom', message });
          return;
        }
        entries.forEach((entry, index) => {
          if (!hasProtocol(entry, protocols)) {
            ctx.addIssue({
              code: 'custom',
              message: `entry ${index + 1} (${redactUrl(entry)}) ${message}`,
            });
          }
        });
      }),
  positiveInt: (fallback: number) => z.coerce.number().int().positive().default(fallback),
  logLevel: () =>
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  nodeEnv: () => z.enum(['development', 'production', 'test']).default('development'),
  /** A duration as `500ms`, `30s`, `15m`, `24h`, `7d` or plain milliseconds; parsed to ms. */
  duration: (fallback: string) =>
    z
      .string()
      .default(fallback)
      .transform((value, ctx) => {
        const match = /^\s*(\d+)\s*(ms|s|m|h|d)?\s*$/.exec(value);
        const ms = match ? Number(match[1]) * DURATION_UNITS[match[2] ?? 'ms']! : NaN;
        if (!Number.isSafeInteger(ms) || ms <= 0) {
          ctx.addIssue({
            code: 'custom',
            message: 'must be a positive duration such as 500ms, 30s, 15m, 24h or 7d',
          });
          return z.NEVER;
        }
        return ms;
      }),
};

/** The entries of a comma-separated URL list, trimmed, empty ones dropped. */
export function splitUrlList(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

function hasProtocol(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol.replace(/:$/, ''));
  } catch {
    return false;
  }
}

/** An entry for an error message: the password never shown, even of a malformed URL. */
function redactUrl(value: string): string {
  return value.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** The environment every service reads; a service extends it with its own variables. */
export function serviceEnvSchema(service: string, defaultPort: number) {
  return z.object({
    NODE_ENV: env.nodeEnv(),
    PORT: env.port(defaultPort),
    LOG_LEVEL: env.logLevel(),
    DATABASE_URL: env.url(['postgresql', 'postgres'], localDatabaseUrl(service)),
    DB_POOL_SIZE: env.positiveInt(10),
    /** One broker URL, or a cluster's nodes comma-separated (the connection fails over between them). */
    RABBITMQ_URL: env.urlList(['amqp', 'amqps'], LOCAL_DEFAULTS.sharedBrokerUrl),
    /**
     * `x-quorum-initial-group-size` of the quorum queues this service declares (3 on a
     * three-node cluster). Unset: the broker's default. RabbitMQ refuses to re-declare a
     * queue with another value, so change it only with fresh queues.
     */
    RABBITMQ_QUORUM_REPLICAS: z.coerce.number().int().min(1).max(9).optional(),
    /**
     * The AMQP heartbeat the service asks for. A connection the network left half-open (no
     * RST, no FIN) is noticed only by heartbeats, after two to three intervals; until then
     * readiness says "up" and publishes wait for confirms that cannot come. 0 leaves it to
     * the broker (RabbitMQ: 60 s), which is rarely what a service wants.
     */
    RABBITMQ_HEARTBEAT_SECONDS: z.coerce.number().int().min(0).max(600).default(5),
    /**
     * Deliveries in flight per queue: also the largest batch a queue with a batch handler
     * writes in one statement (32 measured best in `make bench`: 25% more orders/s than 8).
     * Handlers of single deliveries are capped at DB_POOL_SIZE - 3 at once whatever it is.
     */
    PREFETCH: env.positiveInt(32),
    /** Delays of the retry queues, comma-separated milliseconds. */
    RETRY_DELAYS_MS: z
      .string()
      .default('1000,5000,25000')
      .refine((value) => /^\s*\d+\s*(,\s*\d+\s*)*$/.test(value), {
        message: 'must be a comma-separated list of positive integers (milliseconds)',
      })
      .transform((value) => value.split(',').map((part) => Number(part.trim())))
      .refine((delays) => delays.every((d) => Number.isInteger(d) && d > 0), {
        message: 'must be a comma-separated list of positive integers (milliseconds)',
      }),
    OUTBOX_POLL_INTERVAL_MS: env.positiveInt(1_000),
    /** How long a relay holds outbox rows it claimed; a relay that died frees them after it. */
    OUTBOX_LEASE_MS: env.positiveInt(30_000),
    /**
     * Retention (README, Reliability): sent outbox rows, inbox rows and idempotency keys
     * older than their window are removed every RETENTION_INTERVAL_MS, RETENTION_BATCH rows
     * per statement. The inbox window must exceed the longest redelivery path (the retries
     * plus time parked in `.dead` before a replay): a duplicate after it is processed again.
     */
    OUTBOX_RETENTION: env.duration('1d'),
    INBOX_RETENTION: env.duration('7d'),
    /** For a service that accepts an `Idempotency-Key` (Order): a replay after it is a new request. */
    IDEMPOTENCY_KEY_RETENTION: env.duration('24h'),
    RETENTION_INTERVAL_MS: env.positiveInt(60_000),
    RETENTION_BATCH: env.positiveInt(1_000),
    /** Names this process in the broker's connection list when several instances run. */
    INSTANCE_ID: z.string().max(64).optional(),
    /**
     * Fault switches (FAULT_* and `/admin/faults`) for tests and workshops. Off unless set
     * to true, whatever NODE_ENV says; the local scripts and the test harness set it.
     */
    ALLOW_FAULT_SWITCHES: z.stringbool().default(false),
    /**
     * With it, `/admin/faults` answers only to `Authorization: Bearer <token>` (a workshop in
     * containers); without it, only to callers on this machine.
     */
    FAULT_SWITCHES_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    FAULT_HANDLER_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(0),
    FAULT_HANDLER_FAIL_TIMES: z.coerce.number().int().min(0).max(100).default(0),
    FAULT_HANDLER_FAIL_ALWAYS: z.stringbool().default(false),
    FAULT_MESSAGE_TYPES: z
      .string()
      .default('')
      .transform((value) =>
        value
          .split(',')
          .map((type) => type.trim())
          .filter(Boolean),
      ),
    FAULT_RELAY_PAUSED: z.stringbool().default(false),
    FAULT_CRASH_AFTER_PUBLISH: z.stringbool().default(false),
    FAULT_CRASH_AFTER_CONFIRMS: z.coerce.number().int().min(0).max(1_000_000).default(0),
    FAULT_CRASH_IN_HANDLER: z.stringbool().default(false),
    FAULT_CRASH_BEFORE_ACK: z.stringbool().default(false),
    FAULT_CRASH_MID_BATCH_ACKS: z.coerce.number().int().min(0).max(1_000).default(0),
  });
}

/** The environment every service reads (see `serviceEnvSchema`). */
export type ServiceEnv = z.infer<ReturnType<typeof serviceEnvSchema>>;

const isOn = (value: string | undefined): boolean =>
  value !== undefined && !['0', 'false', 'no', 'off', ''].includes(value.trim().toLowerCase());

/**
 * Refuses fault switches unless `ALLOW_FAULT_SWITCHES=true`: pass it to `loadConfig` as a
 * check of the raw environment, so it is reported together with every other problem.
 */
export function refuseFaultsUnlessAllowed(env: NodeJS.ProcessEnv): string[] {
  if (isOn(env.ALLOW_FAULT_SWITCHES)) return [];
  return (
    Object.entries(env)
      // The token only guards the switches; it is not one.
      .filter(
        ([key, value]) => key.startsWith('FAULT_') && key !== 'FAULT_SWITCHES_TOKEN' && isOn(value),
      )
      .map(([key]) => `${key}: fault switches are refused unless ALLOW_FAULT_SWITCHES=true`)
  );
}

/**
 * Refuses, in production, what is fit only for a developer machine: a broker or database
 * left to its local default, a password that is one of the local-only defaults (`guest`,
 * `*-local-only`) or none, and a broker user shared by the services (each must connect as
 * its own, or senders cannot be told apart). Pass it to `loadConfig` like
 * `refuseFaultsUnlessAllowed`; `service` is the service's own broker user name.
 */
export function refuseLocalDefaultsInProduction(
  env: NodeJS.ProcessEnv,
  service?: string,
): string[] {
  if (env.NODE_ENV !== 'production') return [];
  const problems: string[] = [];
  for (const key of ['RABBITMQ_URL', 'DATABASE_URL']) {
    const value = env[key];
    if (!value) {
      problems.push(`${key}: must be set when NODE_ENV=production (local defaults are refused)`);
      continue;
    }
    const entries = key === 'RABBITMQ_URL' ? splitUrlList(value) : [value];
    for (const entry of entries) {
      const url = safeUrl(entry);
      if (!url) continue; // the schema reports a malformed URL
      const password = decodeURIComponent(url.password);
      if (isLocalOnlyPassword(password)) {
        problems.push(
          `${key}: ${password ? 'a local-only default password' : 'no password'} is refused when NODE_ENV=production`,
        );
      }
      if (key === 'RABBITMQ_URL' && service) {
        const user = decodeURIComponent(url.username || 'guest');
        if (user !== service) {
          problems.push(
            `${key}: broker user ${user} is not this service's own user ${service}; a shared user is refused when NODE_ENV=production`,
          );
        }
      }
    }
  }
  return [...new Set(problems)];
}

/** Passwords that only the local set-up uses: never accepted in production. */
export function isLocalOnlyPassword(password: string): boolean {
  return password === '' || password === 'guest' || password.endsWith('-local-only');
}

function safeUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/**
 * Reads a service's configuration from the environment with the checks every service
 * makes: fault switches only when allowed; in production no local defaults and no broker
 * user but the service's own.
 */
export function loadServiceConfig<S extends z.ZodType>(
  service: string,
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  return loadConfig(schema, env, [
    refuseFaultsUnlessAllowed,
    (raw) => refuseLocalDefaultsInProduction(raw, service),
  ]);
}
