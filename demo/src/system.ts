import {
  serverProblems,
  startDashboard,
  startSystem,
  unbuiltServices,
  type RunningSystem,
} from '@app/testing';
import type { DemoConfig } from './config';

/** Deliveries each consumer has in flight (the services' default, set explicitly for the pace maths). */
export const SERVICE_PREFETCH = 8;

/**
 * The system the demo drives: every service as a child process started the way `make up`
 * starts it, on the demo's own vhost and databases (`demo`, `demo_*`, made afresh each
 * run), with instance names and fault switches, stopped, started and scaled as the
 * scenarios need.
 */
export async function startDemoSystem(config: DemoConfig): Promise<RunningSystem> {
  await assertReady(config);
  return startSystem({
    name: config.DEMO_NAME,
    servers: {
      rabbitmqUrl: config.DEMO_RABBITMQ_URL,
      rabbitmqManagementUrl: config.DEMO_RABBITMQ_MANAGEMENT_URL,
      postgresUrl: config.DEMO_POSTGRES_URL,
    },
    env: { NODE_ENV: 'development', LOG_LEVEL: 'info', PREFETCH: String(SERVICE_PREFETCH) },
    nameInstances: true,
    vhostFallback: true,
    readyTimeoutMs: 60_000,
  });
}

/** Fails with one message naming everything missing: a server that does not answer, an unbuilt service. */
async function assertReady(config: DemoConfig): Promise<void> {
  const problems: string[] = [];
  const unbuilt = unbuiltServices();
  if (unbuilt.length > 0) {
    problems.push(`not built: ${unbuilt.join(', ')}; run \`make build\` (make demo does)`);
  }
  problems.push(
    ...(await serverProblems(config.DEMO_RABBITMQ_URL, config.DEMO_POSTGRES_URL, {
      rabbitmq: 'DEMO_RABBITMQ_URL',
      postgres: 'DEMO_POSTGRES_URL',
    })),
  );
  if (problems.length > 0) {
    throw new Error(`The demo cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * The live dashboard beside the demo's system, so the scenarios can be watched while they
 * run: its address, or why there is none (the demo runs on without it).
 */
export async function startDemoDashboard(
  system: RunningSystem,
  config: DemoConfig,
): Promise<{ url: string } | { problem: string }> {
  if (!system.vhost.made) return { problem: 'the demo has no vhost of its own' };
  try {
    const dashboard = await startDashboard(
      system,
      { LOG_LEVEL: 'warn' },
      {
        port: config.DEMO_DASHBOARD_PORT,
        ...(config.DEMO_RABBITMQ_MANAGEMENT_URL
          ? { managementUrl: config.DEMO_RABBITMQ_MANAGEMENT_URL }
          : {}),
      },
    );
    return { url: dashboard.url };
  } catch (err) {
    return { problem: (err as Error).message.split('\n')[0] ?? String(err) };
  }
}
