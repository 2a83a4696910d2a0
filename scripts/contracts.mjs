#!/usr/bin/env node
// The contract documents, generated from the single source (shared/contracts) and checked:
//   node scripts/contracts.mjs generate [--accept-breaking]   (npm run contracts:generate)
//   node scripts/contracts.mjs check                           (npm run lint:contracts)
// generate writes docs/asyncapi.yaml, docs/asyncapi.html, docs/openapi.json and, when no
// message changed in a breaking way, docs/contracts-baseline/messages.json. check fails when
// a document is stale or invalid (@asyncapi/parser, an OpenAPI 3.1 validator) or when a
// message changed in a breaking way since the baseline (docs/versioning.md).
// Reads the compiled packages: run `tsc -b shared/testing` first (the npm scripts do).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const docs = require(join(ROOT, 'shared/contracts/dist/docs/index.js'));
const { Messages } = require(join(ROOT, 'shared/contracts/dist/index.js'));
const { MessageBuilders } = require(join(ROOT, 'shared/testing/dist/message-builders.js'));
const { DEFAULT_RETRY_DELAYS_MS, retryQueueOf, deadLetterQueueOf } = require(
  join(ROOT, 'shared/broker/dist/topology.js'),
);
const YAML = require('yaml');

const FILES = {
  asyncapi: join(ROOT, 'docs/asyncapi.yaml'),
  asyncapiHtml: join(ROOT, 'docs/asyncapi.html'),
  openapi: join(ROOT, 'docs/openapi.json'),
  baseline: join(ROOT, 'docs/contracts-baseline/messages.json'),
};
const VERSION = JSON.parse(
  readFileSync(join(ROOT, 'shared/contracts/package.json'), 'utf8'),
).version;

/** Fresh ids and clocks made stable, so the committed examples only change with the builders. */
function stabilize(value, seen) {
  if (typeof value === 'string') {
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) {
      if (!seen.has(value))
        seen.set(value, `00000000-0000-4000-8000-${String(seen.size + 1).padStart(12, '0')}`);
      return seen.get(value);
    }
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(value))
      return '2026-01-15T09:30:00.000Z';
    if (/^customer-[0-9a-f]{8}$/.test(value)) return 'customer-0a1b2c3d';
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => stabilize(v, seen));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stabilize(v, seen)]));
  }
  return value;
}

const EXAMPLE_VARIANTS = {
  NewOrder: [
    {
      name: 'newOrder',
      summary: 'An order of one item, paid with the default card token',
      overrides: {},
    },
    {
      name: 'newOrderWithCard',
      summary: 'An order that names its card token (optional payment field)',
      overrides: { payment: { cardToken: 'tok_declined' } },
    },
  ],
};

/** The examples of every message type, built with shared/testing's message builders. */
function examples() {
  const seen = new Map();
  const result = {};
  let messageCount = 0;
  for (const message of Object.values(Messages)) {
    const variants = EXAMPLE_VARIANTS[message.type] ?? [
      {
        name: message.type.charAt(0).toLowerCase() + message.type.slice(1),
        summary: `A valid ${message.type}`,
        overrides: {},
      },
    ];
    result[message.type] = variants.map(({ name, summary, overrides }) => {
      const payload = stabilize(MessageBuilders[message.type](overrides), seen);
      const parsed = message.schema.safeParse(payload);
      if (!parsed.success)
        throw new Error(
          `the ${message.type} builder makes an invalid payload: ${parsed.error.message}`,
        );
      const sender = message.senders[0];
      const headers = {
        messageId: `00000000-0000-4000-9000-${String((messageCount += 1)).padStart(12, '0')}`,
        type: message.type,
        correlationId: payload.orderId,
        timestamp: 1768469400,
        appId: sender,
        userId: sender,
        contentType: 'application/json',
        ...(message.kind === 'command' ? { replyTo: 'order.replies' } : {}),
        ...(message.kind === 'event' && message.type === 'NewOrder'
          ? {}
          : { 'x-causation-id': '00000000-0000-4000-a000-000000000001' }),
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        'x-timestamp-ms': 1768469400000,
      };
      return { name, summary, headers, payload };
    });
  }
  return result;
}

const companionsOf = (queue) => ({
  retry: DEFAULT_RETRY_DELAYS_MS.map((ms) => retryQueueOf(queue, ms)),
  dead: deadLetterQueueOf(queue),
});

/** Formatted as `prettier --check .` (in `npm run lint`) expects. */
async function formatted(file, text) {
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(text, { ...options, filepath: file });
}

async function render() {
  const asyncapi = docs.buildAsyncApi({ examples: examples(), companionsOf, version: VERSION });
  const header =
    '# Generated by `npm run contracts:generate` from shared/contracts (catalog, queues, zod\n' +
    '# schemas) and the builders in shared/testing. Do not edit by hand.\n';
  return {
    [FILES.asyncapi]: await formatted(
      FILES.asyncapi,
      header + YAML.stringify(asyncapi, { lineWidth: 0, aliasDuplicateObjects: false }),
    ),
    [FILES.asyncapiHtml]: await formatted(FILES.asyncapiHtml, docs.renderAsyncApiHtml(asyncapi)),
    [FILES.openapi]: await formatted(FILES.openapi, JSON.stringify(docs.buildOpenApi(VERSION))),
    snapshot: docs.snapshotOf(),
    baselineText: await formatted(FILES.baseline, JSON.stringify(docs.snapshotOf())),
  };
}

const readOr = (file, fallback) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
};

function breaking(snapshot) {
  const baseline = JSON.parse(readOr(FILES.baseline, '{}'));
  return docs.breakingChanges(baseline, snapshot);
}

async function validate(rendered) {
  const problems = [];
  const { Parser } = require('@asyncapi/parser');
  const { diagnostics } = await new Parser().parse(rendered[FILES.asyncapi]);
  for (const d of diagnostics.filter((d) => d.severity === 0)) {
    problems.push(`docs/asyncapi.yaml: ${d.code} at ${d.path.join('.')}: ${d.message}`);
  }
  const { Validator } = await import('@seriousme/openapi-schema-validator');
  const validator = new Validator();
  const result = await validator.validate(JSON.parse(rendered[FILES.openapi]));
  if (!result.valid) {
    for (const e of [].concat(result.errors)) {
      problems.push(`docs/openapi.json: ${e.instancePath ?? ''} ${e.message ?? JSON.stringify(e)}`);
    }
  }
  return { problems, warnings: diagnostics.filter((d) => d.severity === 1).length };
}

async function generate(acceptBreaking) {
  const rendered = await render();
  const changes = breaking(rendered.snapshot);
  const { problems } = await validate(rendered);
  if (problems.length > 0) {
    console.error(`invalid documents:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  for (const file of [FILES.asyncapi, FILES.asyncapiHtml, FILES.openapi]) {
    writeFileSync(file, rendered[file]);
    console.log(`wrote ${relative(ROOT, file)}`);
  }
  if (changes.length > 0 && !acceptBreaking) {
    console.error(
      `breaking changes since docs/contracts-baseline, baseline NOT updated:\n  ${changes.map(docs.describeBreakingChange).join('\n  ')}\n` +
        'Make the change a new version (docs/versioning.md), or, when every consumer and every queued ' +
        'message allows it, run `npm run contracts:generate -- --accept-breaking`.',
    );
    process.exit(1);
  }
  mkdirSync(dirname(FILES.baseline), { recursive: true });
  writeFileSync(FILES.baseline, rendered.baselineText);
  console.log(
    `wrote ${relative(ROOT, FILES.baseline)}${changes.length > 0 ? ' (breaking changes accepted)' : ''}`,
  );
}

async function check() {
  const rendered = await render();
  const failures = [];
  const changes = breaking(rendered.snapshot);
  for (const change of changes)
    failures.push(`breaking change: ${docs.describeBreakingChange(change)}`);
  const stale = [FILES.asyncapi, FILES.asyncapiHtml, FILES.openapi].filter(
    (file) => readOr(file, '') !== rendered[file],
  );
  if (changes.length === 0 && readOr(FILES.baseline, '') !== rendered.baselineText) {
    stale.push(FILES.baseline);
  }
  for (const file of stale)
    failures.push(`${relative(ROOT, file)} is stale: run npm run contracts:generate`);
  const { problems, warnings } = await validate(rendered);
  failures.push(...problems);
  if (failures.length > 0) {
    console.error(`contracts check failed:\n  ${failures.join('\n  ')}`);
    if (changes.length > 0) {
      console.error('A breaking change needs a new message version: see docs/versioning.md.');
    }
    process.exit(1);
  }
  console.log(
    `contracts: documents current and valid (AsyncAPI: ${warnings} parser warnings), no breaking change since the baseline`,
  );
}

const [command = 'generate', ...flags] = process.argv.slice(2);
if (command === 'generate') await generate(flags.includes('--accept-breaking'));
else if (command === 'check') await check();
else {
  console.error('usage: node scripts/contracts.mjs generate [--accept-breaking] | check');
  process.exit(2);
}
