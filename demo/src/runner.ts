import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, redact, type RunningSystem } from '@app/testing';
import { renderChart } from './charts';
import type { DemoConfig } from './config';
import { Progress } from './progress';
import { makeReportFolder, writeReport } from './report';
import type { ScenarioContext, ScenarioResult } from './scenario';
import { Queues } from './queues';
import { scenarios } from './scenarios';
import { startDemoDashboard, startDemoSystem } from './system';
import { exitCodeOf, hasPassed, summaryTable, verdictLine } from './verdict';

export interface Output {
  write(text: string): void;
  isTTY?: boolean | undefined;
  columns?: number | undefined;
}

export interface DemoRun {
  results: ScenarioResult[];
  reportFolder: string;
  exitCode: number;
}

/**
 * Runs the chosen scenarios in order against a system of its own, prints each with live
 * progress and a verdict, then the summary table, and writes the report folder.
 */
export async function runDemo(config: DemoConfig, out: Output): Promise<DemoRun> {
  const startedAt = new Date();
  const live = config.DEMO_PROGRESS === 'tty' || (config.DEMO_PROGRESS === 'auto' && !!out.isTTY);
  const paint = (code: number, text: string): string =>
    live ? `\x1b[${code}m${text}\x1b[0m` : text;
  const progress = new Progress((text) => out.write(text), { live, columns: () => out.columns });
  const say = (line = ''): void => progress.say(line);
  const reportRoot = path.resolve(REPO_ROOT, config.DEMO_REPORT_DIR);
  const reportFolder = await makeReportFolder(reportRoot, startedAt).catch(async (err: Error) => {
    // A bind mount made by Docker belongs to root; the run is still worth having.
    const fallback = await makeReportFolder(os.tmpdir(), startedAt);
    say(`  ! cannot write to ${reportRoot} (${err.message}); the report goes to ${fallback}`);
    return fallback;
  });

  say(
    paint(
      1,
      `Asynchronous messaging, live: ${config.scenarios.length} scenario(s): ${config.scenarios.join(', ')}`,
    ),
  );
  say();
  say('Setting up a system of its own (never touches `make up` or the tests):');
  const booting = Date.now();
  const system = await startDemoSystem(config);
  const queues = new Queues(system.vhost.url);
  const results: ScenarioResult[] = [];
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    say('\nInterrupted: stopping the services ...');
    void Promise.all([system.teardown({ keep: true }), queues.close()]).finally(() =>
      process.exit(130),
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (!system.vhost.made) {
      say(
        `  ! could not make vhost "${config.DEMO_NAME}" (no rabbitmqctl and no DEMO_RABBITMQ_MANAGEMENT_URL): ` +
          'using the broker URL as given; stop other consumers of its queues first',
      );
    }
    say(
      `  broker ${redact(system.vhost.url)}${system.vhost.made ? ` (vhost ${system.vhost.name}, made afresh)` : ''}; ` +
        `databases ${Object.values(system.databases)
          .map((db) => db.name)
          .join(', ')} (made afresh, migrations applied)`,
    );
    say(
      `  ${system.serviceNames.map((service) => `${service} ${system.url(service)}`).join('  ')}  ` +
        `(ready in ${((Date.now() - booting) / 1000).toFixed(1)} s)`,
    );
    const dashboard = await startDemoDashboard(system, config);
    say(
      'url' in dashboard
        ? paint(1, `  Watch it live: ${dashboard.url} (the dashboard of this demo's system)`)
        : `  ! no live dashboard: ${dashboard.problem}`,
    );

    for (const [index, id] of config.scenarios.entries()) {
      const scenario = scenarios[id];
      say();
      say(
        paint(
          1,
          `== ${index + 1}/${config.scenarios.length}  ${scenario.title} ${'='.repeat(Math.max(0, 60 - scenario.title.length))}`,
        ),
      );
      say(scenario.shows);
      const context: ScenarioContext = { system, queues, config, progress, say };
      const started = Date.now();
      const result: ScenarioResult = {
        id,
        title: scenario.title,
        shows: scenario.shows,
        summary: scenario.summary,
        headline: '',
        figures: [],
        checks: [],
        chartFiles: [],
        durationMs: 0,
      };
      try {
        Object.assign(result, await scenario.run(context));
      } catch (err) {
        result.error = (err as Error).message.split('\n')[0] ?? String(err);
      }
      progress.done();
      result.durationMs = Date.now() - started;
      for (const chart of result.charts ?? []) {
        try {
          result.chartFiles.push(...(await renderChart(chart.spec, reportFolder, chart.file)));
        } catch (err) {
          result.checks.push({
            name: `chart ${chart.file} rendered`,
            passed: false,
            detail: (err as Error).message,
          });
        }
      }
      if (result.chartFiles.length > 0) {
        say(
          `  chart: ${path.relative(process.cwd(), path.join(reportFolder, result.chartFiles[0] ?? ''))}`,
        );
      }
      results.push(result);
      say(hasPassed(result) ? paint(32, verdictLine(result)) : paint(31, verdictLine(result)));
      if (result.error) await recover(system, say);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await system.writeLogs(path.join(reportFolder, 'logs')).catch(() => undefined);
    await queues.close();
    await system.teardown({ keep: !config.DEMO_CLEANUP });
  }

  const durationMs = Date.now() - startedAt.getTime();
  const exitCode = exitCodeOf(results);
  await writeReport(reportFolder, results, {
    startedAt,
    durationMs,
    environment: [
      `broker ${redact(system.vhost.url)}, databases ${config.DEMO_NAME}_*`,
      `node ${process.version}, ${os.cpus().length} CPU cores, ${os.platform()}`,
      `scenario sizes: buffering ${config.DEMO_BUFFERING_ORDERS} orders at ${config.DEMO_BUFFERING_DELAY_MS} ms, ` +
        `delivery ${config.DEMO_DELIVERY_ORDERS}, decoupling 2 x ${config.DEMO_DECOUPLING_ORDERS}, ` +
        `scale ${config.DEMO_SCALE_ORDERS} x (1, ${config.DEMO_SCALE_INSTANCES}) instances at ${config.DEMO_SCALE_DELAY_MS} ms`,
    ],
  });
  say();
  say(paint(1, 'Summary'));
  say(summaryTable(results));
  say();
  const passed = results.filter(hasPassed).length;
  const verdict = `${passed} of ${results.length} scenarios passed in ${(durationMs / 1000).toFixed(0)} s`;
  say(exitCode === 0 ? paint(32, `ALL PASSED: ${verdict}`) : paint(31, `FAILED: ${verdict}`));
  say(`Report: ${path.relative(process.cwd(), path.join(reportFolder, 'summary.md'))}`);
  return { results, reportFolder, exitCode };
}

/** After a scenario broke off: faults off and every service running, so the next one starts clean. */
async function recover(system: RunningSystem, say: (line: string) => void): Promise<void> {
  try {
    await system.ensureRunning();
    for (const service of system.serviceNames) await system.setFaults(service);
  } catch (err) {
    say(`  ! could not restore the system: ${(err as Error).message}`);
  }
}
