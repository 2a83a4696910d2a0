import { z } from 'zod';
import { env, loadConfig } from '@app/runtime';
import { LOCAL_DEFAULTS } from '@app/testing';
import { ScenarioIds, type ScenarioId } from './scenario-ids';

const count = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);

export const DemoConfigSchema = z.object({
  /** A broker user that may use the demo vhost; the vhost is made and named by the demo. */
  DEMO_RABBITMQ_URL: env.url(['amqp', 'amqps'], LOCAL_DEFAULTS.rabbitmqUrl),
  /** The management API, for making the vhost where `rabbitmqctl` cannot reach the broker. */
  DEMO_RABBITMQ_MANAGEMENT_URL: z.url().optional(),
  /** A Postgres user that may create databases. */
  DEMO_POSTGRES_URL: env.url(['postgres', 'postgresql'], LOCAL_DEFAULTS.postgresUrl),
  /** The vhost's name and the databases' prefix: `demo` gives vhost demo, databases demo_*. */
  DEMO_NAME: z
    .string()
    .regex(/^(demo|test)(_[a-z0-9_]+)?$/, 'must be demo, demo_* or test_*')
    .default('demo'),
  /** Drop the vhost and databases at the end (tests); by default they stay for a look. */
  DEMO_CLEANUP: z.stringbool().default(false),
  DEMO_REPORT_DIR: z.string().default('reports'),
  /** Comma-separated scenario ids, or `all`. */
  SCENARIO: z.string().default('all'),
  DEMO_BUFFERING_ORDERS: count(300, 10),
  /** Invoicing's per-message delay during the spike (8 in flight: 300 ms is ~25 orders/s). */
  DEMO_BUFFERING_DELAY_MS: count(300, 0),
  DEMO_DELIVERY_ORDERS: count(100),
  DEMO_DECOUPLING_ORDERS: count(20),
  DEMO_SCALE_ORDERS: count(300, 10),
  DEMO_SCALE_INSTANCES: count(3, 2),
  /** Invoicing's per-message work in the scale scenario: the handler, not the broker, limits. */
  DEMO_SCALE_DELAY_MS: count(40, 0),
  /** The live dashboard's port during the demo; 0 takes a free one. */
  DEMO_DASHBOARD_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
  /** `tty` rewrites one live line; `lines` prints a line every second (CI logs). */
  DEMO_PROGRESS: z.enum(['auto', 'tty', 'lines']).default('auto'),
});

export type DemoConfig = z.infer<typeof DemoConfigSchema> & { scenarios: ScenarioId[] };

/** Reads the environment and the command line (`main.js [scenario ...]`). */
export function readDemoConfig(
  environment: NodeJS.ProcessEnv = process.env,
  argv: string[] = process.argv.slice(2),
): DemoConfig {
  const parsed = loadConfig(DemoConfigSchema, environment);
  const requested = argv.length > 0 ? argv.join(',') : parsed.SCENARIO;
  return { ...parsed, scenarios: selectScenarios(requested) };
}

const ALIASES: Record<string, ScenarioId> = {
  delivery: 'guaranteed-delivery',
  styles: 'two-styles',
};

/** `all`, or a comma/space-separated list of ids (in the demo's order, without repeats). */
export function selectScenarios(requested: string): ScenarioId[] {
  const words = requested
    .split(/[\s,]+/)
    .map((word) => word.trim().toLowerCase())
    .filter(Boolean);
  if (words.length === 0 || words.includes('all')) return [...ScenarioIds];
  const unknown = words.filter(
    (word) => !(ScenarioIds as readonly string[]).includes(word) && !ALIASES[word],
  );
  if (unknown.length > 0) {
    throw new Error(
      `Unknown scenario ${unknown.map((u) => `"${u}"`).join(', ')}; known: ${ScenarioIds.join(', ')} (or all)`,
    );
  }
  const chosen = new Set(words.map((word) => ALIASES[word] ?? (word as ScenarioId)));
  return ScenarioIds.filter((id) => chosen.has(id));
}
