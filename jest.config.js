// Unit tests need no infrastructure; integration and end-to-end tests run against a real
// RabbitMQ and Postgres chosen by the global set-up (see shared/testing/src/infrastructure.ts).
const shared = {
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  moduleNameMapper: {
    '^@app/(contracts|runtime|messaging|http|service|testing)$': '<rootDir>/shared/$1/src',
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
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/{shared,services}/*/test/unit/**/*.test.ts'],
    },
    {
      ...withInfrastructure,
      displayName: 'integration',
      testMatch: ['<rootDir>/{shared,services}/*/test/integration/**/*.test.ts'],
    },
    {
      ...withInfrastructure,
      displayName: 'e2e',
      testMatch: ['<rootDir>/e2e/**/*.test.ts'],
    },
  ],
};
