import { z } from 'zod';
import { env, loadConfig } from '@app/runtime';
import { LOCAL_DEFAULTS } from '@app/testing';

const numberList = z
  .string()
  .refine((value) => /^\s*\d+\s*(,\s*\d+\s*)*$/.test(value), {
    message: 'must be a comma-separated list of positive integers',
  })
  .transform((value) => value.split(',').map((part) => Number(part.trim())));

const numbers = (fallback: string) => z.string().default(fallback).pipe(numberList);

const seconds = (fallback: number) => z.coerce.number().positive().max(600).default(fallback);

export const BenchConfigSchema = z.object({
  /** A broker user that may create a vhost (rabbitmqctl or the management API). */
  BENCH_RABBITMQ_URL: env.url(['amqp', 'amqps'], LOCAL_DEFAULTS.rabbitmqUrl),
  BENCH_RABBITMQ_MANAGEMENT_URL: z.url().optional(),
  /** A Postgres user that may create databases. */
  BENCH_POSTGRES_URL: env.url(['postgres', 'postgresql'], LOCAL_DEFAULTS.postgresUrl),
  BENCH_RESULTS_DIR: z.string().default('results'),
  /**
   * Concurrency (open connections) of each quick closed-loop saturation step, rising: the
   * first estimate of the sustained rate.
   */
  BENCH_CONCURRENCY: numbers('2,4,8'),
  BENCH_STEP_SECONDS: seconds(3),
  /** Completions in the first part of a step are left out: the pipeline is still filling. */
  BENCH_STEP_WARMUP_SECONDS: seconds(1),
  /** Length of each open-loop step of the search for the sustained rate. */
  BENCH_SUSTAIN_SECONDS: seconds(20),
  /** At most this many sustain steps per style. */
  BENCH_SUSTAIN_STEPS: z.coerce.number().int().min(1).max(10).default(4),
  /**
   * Fixed arrival rates (orders/s) of the latency runs; unset, 25%, 50% and 75% of each
   * style's sustained rate.
   */
  BENCH_RATES: numberList.optional(),
  BENCH_RATE_SECONDS: seconds(6),
  /** The overload step: twice the sustained rate, open loop, for this long. */
  BENCH_OVERLOAD_SECONDS: seconds(30),
  /** How long the busiest service runs under --cpu-prof at the sustained rate (0: no profile). */
  BENCH_PROFILE_SECONDS: z.coerce.number().min(0).max(600).default(10),
  /** Styles measured; both by default. */
  BENCH_STYLES: z
    .string()
    .default('event,command')
    .transform((value) => value.split(',').map((s) => s.trim()))
    .pipe(z.array(z.enum(['event', 'command'])).min(1)),
  BENCH_CEILING_SECONDS: seconds(2),
  /** How long to wait for a step's backlog to complete before going on. */
  BENCH_DRAIN_TIMEOUT_SECONDS: seconds(20),
  /**
   * Extra environment for every service process, `NAME=value` pairs separated by commas
   * (for example `PREFETCH=16,DB_POOL_SIZE=20`), to compare settings.
   */
  BENCH_SERVICE_ENV: z
    .string()
    .default('')
    .refine(
      (value) => value === '' || /^[A-Z_][A-Z0-9_]*=[^,]*(,[A-Z_][A-Z0-9_]*=[^,]*)*$/.test(value),
      {
        message: 'must be NAME=value pairs separated by commas',
      },
    )
    .transform((value) =>
      Object.fromEntries(
        value
          .split(',')
          .filter(Boolean)
          .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
      ),
    ),
  /** Rewrite the latest-run tables of docs/performance.md with this run's. */
  BENCH_UPDATE_DOCS: z.stringbool().default(false),
});

export type BenchConfig = z.infer<typeof BenchConfigSchema>;

export const readBenchConfig = (environment: NodeJS.ProcessEnv = process.env): BenchConfig =>
  loadConfig(BenchConfigSchema, environment);
