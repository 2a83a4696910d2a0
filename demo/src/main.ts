import { ConfigError } from '@app/runtime';
import { readDemoConfig } from './config';
import { runDemo } from './runner';

/**
 * `node demo/dist/main.js [scenario ...]` (what `make demo` runs): the workshop run.
 * Exits 0 only when every scenario's checks held.
 */
async function main(): Promise<number> {
  let config;
  try {
    config = readDemoConfig();
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
    return 2;
  }
  try {
    return (await runDemo(config, process.stdout)).exitCode;
  } catch (err) {
    process.stderr.write(`\n${(err as Error).message}\n`);
    return 1;
  }
}

void main().then((code) => {
  process.exitCode = code;
});
