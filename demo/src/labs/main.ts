import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ServiceNames } from '@app/contracts';
import { localBrokerUrl } from '@app/runtime';
import { REPO_ROOT } from '@app/testing';
import { LABS } from './labs';
import { resendNewOrder } from './resend';
import { MakeUpTarget, SINCE_FILE } from './target';

const USAGE = `usage: make lab N          check lab N (1-${LABS.length}) against the system \`make up\` runs
       make lab-reset        start a lab afresh: fault switches off, every service up, the clock restarted
       npm run lab -- list   the labs
       npm run lab -- resend <orderId>   publish that order's NewOrder again, under its own message id (lab 5)`;

/** 0 passed, 1 not yet, 2 wrong usage, 3 the system could not be read. */
const Exit = { passed: 0, notYet: 1, usage: 2, unreachable: 3 } as const;

async function main(args: string[]): Promise<number> {
  const [command, argument] = args;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? Exit.usage : Exit.passed;
  }
  if (command === 'list') {
    for (const lab of LABS) {
      process.stdout.write(`${lab.number}  ${lab.title}  (docs/workshop/labs/${lab.slug}.md)\n`);
    }
    return Exit.passed;
  }
  if (command === 'reset') return reset();
  if (command === 'resend') return resend(argument);
  const lab = LABS.find((candidate) => String(candidate.number) === command);
  if (!lab) {
    process.stderr.write(`lab: no lab "${command}"\n${USAGE}\n`);
    return Exit.usage;
  }
  return check(lab.number);
}

async function check(number: number): Promise<number> {
  const lab = LABS.find((candidate) => candidate.number === number)!;
  const target = new MakeUpTarget();
  process.stdout.write(`Lab ${lab.number}: ${lab.title}\n`);
  if (target.sinceGuessed) {
    process.stdout.write('  (no `make lab-reset` yet: looking at the last 24 hours)\n');
  }
  try {
    const result = await lab.check(target);
    for (const { ok, what } of result.seen) process.stdout.write(`  ${ok ? '✓' : '✗'} ${what}\n`);
    if (result.passed) {
      process.stdout.write('Done: the system shows what the lab asked for.\n');
      return Exit.passed;
    }
    process.stdout.write(`Not yet. Hint: ${result.hint ?? 'see the lab’s steps.'}\n`);
    return Exit.notYet;
  } catch (err) {
    process.stderr.write(
      `lab: could not read the system (${err instanceof Error ? err.message : String(err)}).\n` +
        'Is it running? `make up` starts it; `make status` shows it.\n',
    );
    return Exit.unreachable;
  } finally {
    await target.close();
  }
}

/** Fault switches off, every service started, the lab clock restarted. */
async function reset(): Promise<number> {
  const target = new MakeUpTarget();
  const services = (args: string[]) =>
    promisify(execFile)(path.join(REPO_ROOT, 'scripts', 'services.sh'), args, {
      cwd: REPO_ROOT,
    }).catch((err: Error & { stderr?: string }) => {
      process.stderr.write(
        `lab-reset: services.sh ${args[0]} failed: ${err.stderr ?? err.message}\n`,
      );
    });
  // Further instances (lab 6's invoicing-2) stop; every service of `make up` runs.
  const runDir = path.join(REPO_ROOT, '.run');
  const extra = (existsSync(runDir) ? readdirSync(runDir) : [])
    .filter((file) => /^[a-z]+(-[a-z]+)*-\d+\.pid$/.test(file))
    .map((file) => file.replace(/\.pid$/, ''));
  if (extra.length > 0) await services(['stop', ...extra]);
  await services(['start']);
  const problems: string[] = [];
  for (const service of ServiceNames) {
    const response = await fetch(`${target.url(service)}/admin/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      signal: AbortSignal.timeout(5_000),
    }).catch((err: Error) => err);
    if (response instanceof Error || !response.ok) {
      problems.push(
        `${service}: fault switches not reset (${response instanceof Error ? response.message : `HTTP ${response.status}`})`,
      );
    }
  }
  mkdirSync(path.dirname(SINCE_FILE), { recursive: true });
  const now = new Date();
  writeFileSync(SINCE_FILE, `${now.toISOString()}\n`);
  await target.close();
  for (const problem of problems) process.stderr.write(`lab-reset: ${problem}\n`);
  process.stdout.write(
    `Lab clock restarted at ${now.toISOString()}: checks look at orders placed from now on.\n` +
      'Fault switches are off, further instances stopped, and every service of `make up` runs.\n',
  );
  return problems.length === 0 ? Exit.passed : Exit.unreachable;
}

/** Lab 5: publishes the order's NewOrder again (see `resendNewOrder`). */
async function resend(orderId: string | undefined): Promise<number> {
  if (!orderId || !/^[0-9a-f-]{36}$/.test(orderId)) {
    process.stderr.write(`lab: resend needs an order id\n${USAGE}\n`);
    return Exit.usage;
  }
  const target = new MakeUpTarget();
  try {
    const url = process.env.LAB_ORDER_RABBITMQ_URL ?? localBrokerUrl('order');
    const messageId = await resendNewOrder(target, url, orderId);
    if (!messageId) {
      process.stderr.write(
        `lab: order ${orderId} has no NewOrder (is it a command-style order, or older than the outbox keeps?)\n`,
      );
      return Exit.notYet;
    }
    process.stdout.write(`Published NewOrder ${messageId} of order ${orderId} again.\n`);
    return Exit.passed;
  } finally {
    await target.close();
  }
}

void main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(
      `lab: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = Exit.unreachable;
  },
);
