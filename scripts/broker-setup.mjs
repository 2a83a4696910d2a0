#!/usr/bin/env node
// Applies infra/rabbitmq/definitions.json (the `messaging` vhost, one least-privilege user
// per service, the exchanges) to a broker: through its management API when
// RABBITMQ_MANAGEMENT_URL is set (docker compose: http://app:app@rabbitmq:15672), else with
// rabbitmqctl on this machine (a local broker, run as root). Safe to run again.
//   node scripts/broker-setup.mjs
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFINITIONS = path.join(repoRoot, 'infra/rabbitmq/definitions.json');

/** Imports the definitions; throws with the reason when neither way works. */
export async function importBrokerDefinitions(managementUrl = process.env.RABBITMQ_MANAGEMENT_URL) {
  if (managementUrl) {
    const url = new URL(managementUrl);
    const auth = Buffer.from(
      `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`,
    ).toString('base64');
    const response = await fetch(`${url.protocol}//${url.host}/api/definitions`, {
      method: 'POST',
      headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
      body: readFileSync(DEFINITIONS),
    });
    if (!response.ok)
      throw new Error(`management API answered ${response.status}: ${await response.text()}`);
    return 'management API';
  }
  execFileSync('rabbitmqctl', ['-q', 'import_definitions', DEFINITIONS], { stdio: 'pipe' });
  return 'rabbitmqctl';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  importBrokerDefinitions()
    .then((how) => console.log(`[broker-setup] definitions imported with ${how}`))
    .catch((error) => {
      console.error(`[broker-setup] failed: ${error.message}`);
      process.exit(1);
    });
}
