import path from 'node:path';
import { z } from 'zod';
import { renderChart } from '@app/demo/charts';
import { ConfigError, env, loadConfig } from '@app/runtime';
import { LOCAL_DEFAULTS, REPO_ROOT } from '@app/testing';
import { SOAK_RETENTION_ENV, runSoak } from './soak';
import { soakChart, soakSummary, writeSoakReport } from './soak-report';

const SoakConfigSchema = z.object({
  SOAK_MINUTES: z.coerce.number().positive().default(30),
  /** Both styles together; half the ~160-170 orders/s the bench measured as saturation. */
  SOAK_RATE: z.coerce.number().positive().default(80),
  SOAK_SAMPLE_SECONDS: z.coerce.number().int().positive().default(30),
  SOAK_REPORTS_DIR: z.string().default('reports'),
  BENCH_RABBITMQ_URL: env.url(['amqp', 'amqps'], LOCAL_DEFAULTS.rabbitmqUrl),
  BENCH_RABBITMQ_MANAGEMENT_URL: z.url().optional(),
  BENCH_POSTGRES_URL: env.url(['postgres', 'postgresql'], LOCAL_DEFAULTS.postgresUrl),
});

/**
 * `node bench/dist/soak-main.js` (what `make soak` runs): a steady load for SOAK_MINUTES,
 * with retention windows short enough that cleanup runs many times, then the ledger and a
 * report under reports/soak-<timestamp>/. Exit 1 when an order is lost or doubled.
 */
async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig(SoakConfigSchema);
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
    return 2;
  }
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  say(
    `Soak: ${config.SOAK_RATE} orders/s (half event, half command) for ${config.SOAK_MINUTES} min ...`,
  );
  const result = await runSoak({
    seconds: config.SOAK_MINUTES * 60,
    rate: config.SOAK_RATE,
    sampleSeconds: config.SOAK_SAMPLE_SECONDS,
    retentionEnv: SOAK_RETENTION_ENV,
    servers: {
      rabbitmqUrl: config.BENCH_RABBITMQ_URL,
      rabbitmqManagementUrl: config.BENCH_RABBITMQ_MANAGEMENT_URL,
      postgresUrl: config.BENCH_POSTGRES_URL,
    },
    say,
  });
  const folder = await writeSoakReport(path.resolve(REPO_ROOT, config.SOAK_REPORTS_DIR), result);
  await renderChart(soakChart(result), folder, 'soak');
  say('');
  say(soakSummary(result));
  say(`\nReport: ${path.relative(process.cwd(), folder) || folder}`);
  const broken = Object.values(result.ledgers).some(
    (ledger) => ledger.lost.length > 0 || ledger.doubled.length > 0 || ledger.miscounted.length > 0,
  );
  return broken || result.open > 0 ? 1 : 0;
}

void main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(
      `\nsoak failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  },
);
