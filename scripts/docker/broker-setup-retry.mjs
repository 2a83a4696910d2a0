#!/usr/bin/env node
// scripts/broker-setup.mjs with retries, for docker compose: the migrate container applies
// infra/rabbitmq/definitions.json through the management API, which can answer a few
// seconds after the broker's health check passes (or answer 503 while it boots). It retries
// for up to BROKER_SETUP_TIMEOUT_S (60 s) instead of failing the first time, so a slow
// management listener delays the services a little but never stops them from starting.
// (Loading the definitions at boot instead would skip RabbitMQ's default user, RABBITMQ_USER.)
import { setTimeout as sleep } from 'node:timers/promises';
import { importBrokerDefinitions } from '../broker-setup.mjs';

const timeoutMs = Number(process.env.BROKER_SETUP_TIMEOUT_S ?? 60) * 1000;
const deadline = Date.now() + timeoutMs;

for (let attempt = 1; ; attempt += 1) {
  try {
    const how = await importBrokerDefinitions();
    console.log(`[broker-setup] definitions imported with ${how} (attempt ${attempt})`);
    break;
  } catch (error) {
    const reason = error.cause?.code ?? error.message;
    if (Date.now() >= deadline) {
      console.error(`[broker-setup] failed after ${attempt} attempts: ${reason}`);
      process.exit(1);
    }
    console.error(`[broker-setup] attempt ${attempt} failed (${reason}); retrying`);
    await sleep(Math.min(500 * attempt, 3000));
  }
}
