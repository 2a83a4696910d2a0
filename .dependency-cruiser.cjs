// Rules that keep the architecture (STYLE.md, "Rules that keep the shape"); `npm run lint`
// runs them. Paths are resolved the way the tests resolve them (tsconfig.test.json maps
// each @app package to its source), so the check needs no build and no network.

/** A workspace: `shared/<name>`, `services/<name>`, `demo` or `bench`. */
const WORKSPACE = '(shared/[^/]+|services/[^/]+|demo|bench)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle makes two modules one: neither can be read, tested or moved alone.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment:
        'The domain says what happens, not how it travels or is stored: no data access, HTTP, ' +
        'broker or database code (its use cases declare the interfaces they need).',
      from: { path: '^services/[^/]+/src/domain/' },
      to: {
        path: [
          '^services/[^/]+/src/(data-access|entry-points|generated)/',
          '^services/[^/]+/src/(main|config)\\.ts$',
          '^shared/(broker|store|http|service|operations|testing)/',
          '(^|/)node_modules/(@types/)?(express|amqplib|amqp-connection-manager|pg|pg-[^/]+|prisma)/',
          '(^|/)node_modules/@prisma/',
        ],
      },
    },
    {
      name: 'shared-is-infrastructure-only',
      severity: 'error',
      comment:
        'Shared packages are business-agnostic: they import no service, demo, bench or e2e code.',
      from: { path: '^shared/' },
      to: { path: '^(services|demo|bench|e2e)/' },
    },
    {
      name: 'no-service-imports-another',
      severity: 'error',
      comment: 'Services talk through messages and HTTP, never through each other’s code.',
      from: { path: '^services/([^/]+)/' },
      to: { path: '^services/', pathNot: '^services/$1/' },
    },
    {
      name: 'services-are-not-libraries',
      severity: 'error',
      comment:
        'Nothing outside a service imports its code: tests, the demo and the bench start it as a ' +
        'process (@app/testing startSystem) or in-process through its own tests.',
      from: { pathNot: '^services/' },
      to: { path: '^services/[^/]+/(src|dist)/' },
    },
    {
      name: 'only-the-public-face',
      severity: 'error',
      comment:
        'Import another package by its name (what its package.json exports), never by a ' +
        'relative path into its src or dist.',
      from: { path: `^(${WORKSPACE}|e2e)/` },
      to: {
        path: `^${WORKSPACE}/`,
        pathNot: '^$1/',
        // `@app/x` resolves (tsconfig.test.json paths, package.json exports) as "aliased".
        dependencyTypes: ['local'],
        dependencyTypesNot: ['aliased'],
      },
    },
    {
      name: 'no-dist-imports',
      severity: 'error',
      comment: 'Source never imports build output: import the package by its name.',
      from: { pathNot: '/dist/' },
      to: { path: `^${WORKSPACE}/dist/` },
    },
    {
      name: 'only-exported-entry-points',
      severity: 'error',
      comment:
        'An @app import that does not resolve names a path the package does not export ' +
        '(for example @app/broker/src/consumer): use the package name or an exported subpath.',
      from: {},
      to: { couldNotResolve: true, path: '^@app/' },
    },
  ],
  options: {
    // Start points are the source and test folders (see the lint script in package.json);
    // build output and generated clients are only followed into, so a rule can name them.
    doNotFollow: { path: ['node_modules', '/dist/', '/src/generated/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.test.json' },
    // Read package.json `exports` like Node, and prefer a package's source ("source" comes
    // first in demo's exports; TypeScript and Node skip it), so no build is needed.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['source', 'types', 'require', 'node', 'default'],
      extensions: ['.ts', '.d.ts', '.js', '.cjs', '.mjs', '.json'],
      mainFields: ['types', 'main'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
