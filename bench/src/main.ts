import path from 'node:path';
import { renderChart } from '@app/demo/charts';
import { ConfigError } from '@app/runtime';
import { REPO_ROOT } from '@app/testing';
import { latencyChart, overloadChart, saturationChart } from './charts';
import { readBenchConfig } from './config';
import {
  machineLine,
  resultsFolderName,
  textReport,
  updatePerformancePage,
  writeResults,
} from './report';
import { runBench } from './runner';

/**
 * `node bench/dist/main.js` (what `make bench` runs): measures the system end to end
 * beside the raw broker and database ceilings, prints the tables and writes the results.
 */
async function main(): Promise<number> {
  let config;
  try {
    config = readBenchConfig();
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
    return 2;
  }
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  const startedAt = new Date();
  const folder = path.resolve(
    REPO_ROOT,
    config.BENCH_RESULTS_DIR,
    resultsFolderName(startedAt.toISOString()),
  );
  const result = await runBench(config, say, { startedAt, folder });
  await writeResults(folder, result);
  await renderChart(saturationChart(result), folder, 'saturation');
  await renderChart(latencyChart(result), folder, 'latency');
  if (result.overload.length > 0) await renderChart(overloadChart(result), folder, 'overload');
  const page = path.join(REPO_ROOT, 'docs', 'performance.md');
  if (config.BENCH_UPDATE_DOCS) await updatePerformancePage(page, result);
  say('');
  say(textReport(result));
  say('');
  say(machineLine(result));
  say(
    `Results: ${path.relative(process.cwd(), folder) || folder} (results.json, summary.md, saturation.png, latency.png, overload.png, the CPU profile)`,
  );
  if (config.BENCH_UPDATE_DOCS)
    say(`Latest-run tables written to ${path.relative(process.cwd(), page)}.`);
  say(`Took ${(result.durationMs / 1000).toFixed(0)} s.`);
  return 0;
}

void main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(
      `\nbench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  },
);
