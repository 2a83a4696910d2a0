// Unit tests need no infrastructure; integration and end-to-end tests run against a real
// RabbitMQ and Postgres chosen by the global set-up (see shared/testing/src/infrastructure.ts).
const shared = {
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  moduleNameMapper: {
    '^@app/(contracts|runtime|broker|store|operations|http|service|telemetry|testing)$':
      '<rootDir>/shared/$1/src',
  },
  testEnvironment: 'node',
};

const withInfrastructure = {
  ...shared,
  globalSetup: '<rootDir>/shared/testing/src/global-setup.ts',
  globalTeardown: '<rootDir>/shared/testing/src/global-teardown.ts',
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60_000,
  // At least two test files at once, also on two cores (jest's default there is one): most
  // of an end-to-end test's time is spent waiting (services starting, retries, leases), so
  // two overlap well; the parallel part took 14 minutes alone and 8 in pairs (CI, 2 cores).
  maxWorkers: Math.max(2, require('node:os').availableParallelism() - 1),
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/{shared,services}/*/test/unit/**/*.test.ts',
        '<rootDir>/demo/test/unit/**/*.test.ts',
        '<rootDir>/bench/test/unit/**/*.test.ts',
      ],
    },
    {
      ...withInfrastructure,
      displayName: 'integration',
      testMatch: [
        '<rootDir>/{shared,services}/*/test/integration/**/*.test.ts',
        '<rootDir>/demo/test/integration/**/*.test.ts',
      ],
    },
    {
      ...withInfrastructure,
      displayName: 'e2e',
      testMatch: ['<rootDir>/e2e/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.serial\\.test\\.ts$'],
    },
    // Fault tests that stop the broker every test file shares: they run alone, after the
    // other projects (`npm test`: `--selectProjects faults-serial --runInBand`). Listed only
    // when selected by name, so a bare `jest` never runs them beside other test files. The
    // check that a run on containers reached no local server runs here too: after the rest.
    ...(selected('faults-serial')
      ? [
          {
            ...shared,
            displayName: 'faults-serial',
            testMatch: ['<rootDir>/e2e/**/*.serial.test.ts'],
            globalSetup: '<rootDir>/e2e/faults/serial-global-setup.ts',
            globalTeardown: '<rootDir>/e2e/faults/serial-global-teardown.ts',
          },
        ]
      : []),
  ],
};

/** True when the command line names the project, as in `jest --selectProjects faults-serial`. */
function selected(project) {
  return process.argv.some((arg) =>
    arg
      .replace(/^--selectProjects=/, '')
      .split(',')
      .includes(project),
  );
}
