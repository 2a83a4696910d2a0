// What adding a consuming service changes outside its own folder, each change with its
// undo. Used by scripts/new-service.mjs (apply) and scripts/remove-service.mjs (revert).
// Every edit is surgical: it adds or takes out the new service's own entry and leaves the
// rest of the file as it is; where the formatter decides the layout (TypeScript, JSON,
// YAML), the caller runs prettier on the edited files afterwards, so an apply followed by a
// revert gives back the file it started from.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The SQL of the compose Postgres's init script for one service (roles, database, grants). */
function initSql(name) {
  return [
    '',
    `-- ${name} (npm run new-service): roles, database and privileges as for the others above.`,
    `CREATE ROLE ${name}_owner LOGIN PASSWORD '${name}-owner-local-only';`,
    `CREATE ROLE ${name}_service LOGIN PASSWORD '${name}-local-only';`,
    `CREATE DATABASE "${name}" OWNER ${name}_owner;`,
    `REVOKE ALL ON DATABASE "${name}" FROM PUBLIC;`,
    `GRANT CONNECT, TEMPORARY ON DATABASE "${name}" TO ${name}_owner;`,
    `GRANT CONNECT ON DATABASE "${name}" TO ${name}_service;`,
    `\\connect "${name}"`,
    'REVOKE CREATE ON SCHEMA public FROM PUBLIC;',
    `GRANT USAGE ON SCHEMA public TO ${name}_service;`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${name}_owner IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${name}_service;`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${name}_owner IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${name}_service;`,
    '',
  ].join('\n');
}

function composeService({ name, NAME, port }) {
  return `  ${name}:
    image: \${SERVICE_IMAGE:-amr-messaging/service:local}
    build: *service-build
    command: ['node', 'services/${name}/dist/main.js']
    init: true
    environment:
      <<: *app-env
      PORT: '${port}'
      DATABASE_URL: \${${NAME}_COMPOSE_DATABASE_URL:-postgresql://${name}_service:${name}-local-only@postgres:5432/${name}}
      RABBITMQ_URL: \${${NAME}_COMPOSE_RABBITMQ_URL:-amqp://${name}:${name}-local-only@rabbitmq:5672/messaging}
    ports:
      - '127.0.0.1:\${${NAME}_PORT:-${port}}:${port}'
    depends_on: *app-depends
    healthcheck:
      <<: *app-healthcheck
      test:
        - CMD
        - node
        - -e
        - "fetch('http://127.0.0.1:${port}/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
    restart: unless-stopped

`;
}

const composeMigrateLine = ({ name, NAME }) =>
  `      ${NAME}_MIGRATE_DATABASE_URL: \${${NAME}_COMPOSE_MIGRATE_URL:-postgresql://${name}_owner:${name}-owner-local-only@postgres:5432/${name}}\n`;

/** The service's HTTP operations in the contract (docs/openapi.json is generated from it). */
const httpApi = ({ name, Name, port }) => `
  ${name}: {
    port: ${port},
    description: 'Records the points each order earns (NewOrder); made by npm run new-service.',
    operations: [
      {
        operationId: 'get${Name}Points',
        method: 'get',
        path: '/${name}/points',
        summary: "A customer's points over every order recorded",
        query: z.object({ customerId: z.string().trim().min(1).max(200) }),
        responses: {
          200: {
            description: 'The balance',
            schema: z.object({
              customerId: z.string(),
              points: z.int().min(0),
              orders: z.int().min(0),
            }),
          },
          400: badRequest,
        },
      },
      {
        operationId: 'get${Name}OrderPoints',
        method: 'get',
        path: '/${name}/orders/{orderId}',
        summary: 'The points one order earned',
        pathParams: { orderId: ResourceIdSchema },
        responses: {
          200: {
            description: 'The order as recorded, with its points',
            schema: z.object({
              orderId: IdSchema,
              customerId: z.string(),
              points: z.int().min(0),
              totalCents: CentsSchema,
              currency: CurrencySchema,
              placedAt: TimestampSchema,
              recordedAt: TimestampSchema,
            }),
          },
          404: { description: 'No points recorded for this order', problem: true },
        },
      },
    ],
  },`;

const prometheusTarget = ({ name, port }) =>
  `      - targets: ['${name}:${port}']\n        labels: { service: ${name} }\n`;

const envBackfill = ({ Name, NAME }) =>
  `# ${Name} only (npm run new-service): the same for its queue, on by default.\n# ${NAME}_BACKFILL=true\n`;
const envDatabase = ({ name, NAME }) =>
  `# ${NAME}_DATABASE_URL=postgresql://${name}_service:${name}-local-only@127.0.0.1:5432/${name}\n`;
const envPort = ({ NAME, port }) => `# ${NAME}_PORT=${port}\n`;

/** Inserts `text` before the first occurrence of `anchor` (at or after `from`), or fails. */
function insertBefore(source, anchor, text, file, from = 0) {
  const at = source.indexOf(anchor, from);
  if (at < 0)
    throw new Error(
      `${file}: cannot find where to add the service (looked for ${JSON.stringify(anchor.trim())})`,
    );
  return source.slice(0, at) + text + source.slice(at);
}

/** Takes out the first occurrence of `text`; leaves the source as it is when absent. */
const takeOut = (source, text) => {
  const at = source.indexOf(text);
  return at < 0 ? source : source.slice(0, at) + source.slice(at + text.length);
};

/**
 * The edits, in the order they are applied. `apply` and `revert` map a file's text to its
 * new text; `check` (optional) says whether the service is already there.
 */
export function editsFor(ctx) {
  const { name } = ctx;
  return [
    {
      file: 'shared/contracts/src/catalog.ts',
      format: true,
      present: (s) => new RegExp(`ServiceNames = \\[[^\\]]*'${name}'`).test(s),
      apply: (s) =>
        s.replace(
          /(export const ServiceNames = \[)([^\]]*?)(,?\s*)(\] as const;)/,
          (_, open, items, _sep, close) => {
            if (!items) throw new Error('catalog.ts: ServiceNames is empty');
            return `${open}${items}, '${name}'${close}`;
          },
        ),
      revert: (s) =>
        s.replace(
          /(export const ServiceNames = \[)([^\]]*)(\] as const;)/,
          (_, open, items, close) => {
            const kept = items
              .split(',')
              .map((item) => item.trim())
              .filter((item) => item && item !== `'${name}'`);
            return `${open}${kept.join(', ')}${close}`;
          },
        ),
    },
    {
      file: 'shared/contracts/src/consumers.ts',
      format: true,
      present: (s) => new RegExp(`\\n\\s*${name}NewOrder: \\{`).test(s),
      apply: (s) =>
        insertBefore(
          s,
          '\n} as const satisfies Record<string, QueueDefinition>;',
          `\n  ${name}NewOrder: {\n    name: '${name}.new-order',\n    consumer: '${name}',\n    messages: ['NewOrder'],\n  },`,
          'consumers.ts',
        ),
      revert: (s) => s.replace(new RegExp(`\\n[ \\t]*${name}NewOrder: \\{[^}]*\\},`), ''),
    },
    {
      file: 'shared/broker/src/permissions.ts',
      format: true,
      present: (s) => new RegExp(`\\n\\s*${name}: \\{`).test(s),
      apply: (s) => {
        const start = s.indexOf('export const BrokerPermissions');
        if (start < 0) throw new Error('permissions.ts: BrokerPermissions not found');
        // A NewOrder subscriber that publishes nothing may do what Statistics may, under its
        // own name: the same rules (a history stream to backfill from included) stay in step.
        const model = s.slice(start).match(/\n {2}statistics: \{[^}]*\},/);
        if (!model) throw new Error("permissions.ts: Statistics' entry, the model, not found");
        const entry = model[0].replace(/statistics/g, name);
        return insertBefore(s, '\n};', entry, 'permissions.ts', start);
      },
      revert: (s) => s.replace(new RegExp(`\\n[ \\t]*${name}: \\{[^}]*\\},`), ''),
    },
    {
      file: 'shared/contracts/src/http.ts',
      format: true,
      present: (s) => new RegExp(`HttpApis[\\s\\S]*\\n  ${name}: \\{`).test(s),
      apply: (s) => {
        const start = s.indexOf('export const HttpApis');
        if (start < 0) throw new Error('http.ts: HttpApis not found');
        return insertBefore(s, '\n};', httpApi(ctx), 'http.ts', start);
      },
      revert: (s) => s.replace(new RegExp(`\\n  ${name}: \\{\\n[\\s\\S]*?\\n  \\},`), ''),
    },
    {
      file: 'package.json',
      format: true,
      present: (s) => JSON.parse(s).workspaces.includes(`services/${name}`),
      apply: (s) => {
        const manifest = JSON.parse(s);
        const list = manifest.workspaces;
        const lastService = list.reduce((at, w, i) => (w.startsWith('services/') ? i : at), -1);
        list.splice(lastService + 1, 0, `services/${name}`);
        return `${JSON.stringify(manifest, null, 2)}\n`;
      },
      revert: (s) => {
        const manifest = JSON.parse(s);
        manifest.workspaces = manifest.workspaces.filter((w) => w !== `services/${name}`);
        return `${JSON.stringify(manifest, null, 2)}\n`;
      },
    },
    {
      file: 'docker-compose.yml',
      format: true,
      present: (s) => s.includes(`\n  ${name}:\n`),
      apply: (s) => {
        const withService = insertBefore(
          s,
          '  # The live dashboard',
          composeService(ctx),
          'docker-compose.yml',
        );
        const migrate = withService.indexOf('\n  migrate:\n');
        const management = withService.indexOf('      RABBITMQ_MANAGEMENT_URL:', migrate);
        if (migrate < 0 || management < 0)
          throw new Error('docker-compose.yml: the migrate service and its environment not found');
        return (
          withService.slice(0, management) + composeMigrateLine(ctx) + withService.slice(management)
        );
      },
      revert: (s) => takeOut(takeOut(s, composeService(ctx)), composeMigrateLine(ctx)),
    },
    {
      file: '.env.example',
      present: (s) => s.includes(`# ${ctx.NAME}_PORT=`),
      apply: (s) => {
        let text = insertBefore(s, '# Time between cleanup runs', envBackfill(ctx), '.env.example');
        text = insertBefore(
          text,
          '# Per-service database for migrations',
          envDatabase(ctx),
          '.env.example',
        );
        return insertBefore(text, '# Seconds `make up` waits', envPort(ctx), '.env.example');
      },
      revert: (s) => takeOut(takeOut(takeOut(s, envBackfill(ctx)), envDatabase(ctx)), envPort(ctx)),
    },
    {
      file: 'infra/postgres/init.sql',
      present: (s) => s.includes(`CREATE DATABASE "${name}"`),
      apply: (s) => s + initSql(name),
      revert: (s) => takeOut(s, initSql(name)),
    },
    {
      file: 'infra/observability/prometheus.yml',
      format: true,
      present: (s) => s.includes(`'${name}:`),
      apply: (s) =>
        insertBefore(s, "      - targets: ['dashboard:", prometheusTarget(ctx), 'prometheus.yml'),
      revert: (s) => takeOut(s, prometheusTarget(ctx)),
    },
  ];
}

/** Applies (or reverts) every edit; returns the files changed. Nothing is written on a failure of `apply`. */
export function runEdits(ctx, direction) {
  const planned = [];
  for (const edit of editsFor(ctx)) {
    const file = path.join(ROOT, edit.file);
    if (!existsSync(file)) throw new Error(`${edit.file} is missing`);
    const before = readFileSync(file, 'utf8');
    const after = edit[direction](before);
    if (after !== before) planned.push({ edit, file, after });
  }
  for (const { file, after } of planned) writeFileSync(file, after);
  return planned.map(({ edit }) => edit);
}

/** The edits whose target already names the service. */
export function presentIn(ctx) {
  return editsFor(ctx).filter((edit) => {
    const file = path.join(ROOT, edit.file);
    return existsSync(file) && edit.present(readFileSync(file, 'utf8'));
  });
}
