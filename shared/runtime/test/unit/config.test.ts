import { z } from 'zod';
import {
  ConfigError,
  backoffDelay,
  env,
  loadConfig,
  loadServiceConfig,
  refuseFaultsUnlessAllowed,
  serviceEnvSchema,
} from '../../src';

/** The problems of the ConfigError that `run` throws. */
function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError, but the configuration was accepted');
}

describe('production refuses what is fit only for a developer machine', () => {
  const schema = serviceEnvSchema('invoicing', 3002);
  const own = {
    NODE_ENV: 'production',
    RABBITMQ_URL: 'amqp://invoicing:s3cret-from-vault@broker:5672/messaging',
    DATABASE_URL: 'postgresql://invoicing_service:s3cret-from-vault@db:5432/invoicing',
  };

  test('when production names its own broker user and real passwords, then it starts', () => {
    expect(() => loadServiceConfig('invoicing', schema, own)).not.toThrow();
  });

  test.each([
    ['RABBITMQ_URL is left out', { RABBITMQ_URL: undefined }, 'RABBITMQ_URL: must be set'],
    ['DATABASE_URL is left out', { DATABASE_URL: undefined }, 'DATABASE_URL: must be set'],
    [
      'the broker password is the local default',
      { RABBITMQ_URL: 'amqp://invoicing:invoicing-local-only@broker:5672/messaging' },
      'RABBITMQ_URL: a local-only default password',
    ],
    [
      'the broker is guest/guest',
      { RABBITMQ_URL: 'amqp://guest:guest@broker:5672' },
      'RABBITMQ_URL: a local-only default password',
    ],
    [
      'the database password is the local default',
      { DATABASE_URL: 'postgresql://invoicing_service:invoicing-local-only@db:5432/invoicing' },
      'DATABASE_URL: a local-only default password',
    ],
    [
      'the database has no password',
      { DATABASE_URL: 'postgresql://invoicing_service@db:5432/invoicing' },
      'DATABASE_URL: no password',
    ],
    [
      'the broker user is shared by the services',
      { RABBITMQ_URL: 'amqp://app:s3cret-from-vault@broker:5672/messaging' },
      'broker user app is not this service',
    ],
    [
      'the broker user is another service',
      { RABBITMQ_URL: 'amqp://order:s3cret-from-vault@broker:5672/messaging' },
      'broker user order is not this service',
    ],
  ])('when %s, then production refuses to start', (_case, change, problem) => {
    const environment: NodeJS.ProcessEnv = { ...own, ...change };
    for (const [key, value] of Object.entries(change))
      if (value === undefined) delete environment[key];

    const problems = problemsOf(() => loadServiceConfig('invoicing', schema, environment));

    expect(problems.join('\n')).toContain(problem);
  });

  test('when the same settings run outside production, then they are accepted', () => {
    expect(() =>
      loadServiceConfig('invoicing', schema, {
        RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:5672',
      }),
    ).not.toThrow();
  });
});

describe('loadConfig', () => {
  const schema = serviceEnvSchema('shipping', 3003);

  test('when the environment is empty, then every variable takes its default', () => {
    const config = loadConfig(schema, {});

    expect(config).toEqual({
      NODE_ENV: 'development',
      PORT: 3003,
      LOG_LEVEL: 'info',
      DATABASE_URL: 'postgresql://shipping_service:shipping-local-only@127.0.0.1:5432/shipping',
      DB_POOL_SIZE: 10,
      RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:5672',
      RABBITMQ_HEARTBEAT_SECONDS: 5,
      PREFETCH: 32,
      RETRY_DELAYS_MS: [1_000, 5_000, 25_000],
      OUTBOX_POLL_INTERVAL_MS: 1_000,
      OUTBOX_LEASE_MS: 30_000,
      OUTBOX_RETENTION: 86_400_000,
      INBOX_RETENTION: 7 * 86_400_000,
      IDEMPOTENCY_KEY_RETENTION: 86_400_000,
      RETENTION_INTERVAL_MS: 60_000,
      RETENTION_BATCH: 1_000,
      ALLOW_FAULT_SWITCHES: false,
      FAULT_HANDLER_DELAY_MS: 0,
      FAULT_HANDLER_FAIL_TIMES: 0,
      FAULT_HANDLER_FAIL_ALWAYS: false,
      FAULT_MESSAGE_TYPES: [],
      FAULT_RELAY_PAUSED: false,
      FAULT_CRASH_AFTER_PUBLISH: false,
      FAULT_CRASH_AFTER_CONFIRMS: 0,
      FAULT_CRASH_IN_HANDLER: false,
      FAULT_CRASH_BEFORE_ACK: false,
      FAULT_CRASH_MID_BATCH_ACKS: 0,
    });
  });

  test.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    ['2500', 2_500],
  ])('when a retention window is %p, then it is %p ms', (value, ms) => {
    expect(loadConfig(schema, { INBOX_RETENTION: value }).INBOX_RETENTION).toBe(ms);
  });

  test('when retention windows are not durations, then each is reported', () => {
    const problems = problemsOf(() =>
      loadConfig(schema, { OUTBOX_RETENTION: '1 week', INBOX_RETENTION: '0s' }),
    );

    expect(problems).toEqual([
      expect.stringMatching(/^OUTBOX_RETENTION: must be a positive duration/),
      expect.stringMatching(/^INBOX_RETENTION: must be a positive duration/),
    ]);
  });

  test.each(['production', 'development', 'test', undefined])(
    'when fault switches are set without ALLOW_FAULT_SWITCHES (NODE_ENV=%p), then each is refused along with every other problem',
    (nodeEnv) => {
      const environment = {
        ...(nodeEnv === undefined ? {} : { NODE_ENV: nodeEnv }),
        PORT: 'eighty',
        FAULT_RELAY_PAUSED: 'true',
        FAULT_HANDLER_FAIL_TIMES: '2',
      };

      const problems = problemsOf(() =>
        loadConfig(schema, environment, [refuseFaultsUnlessAllowed]),
      );

      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^PORT: /),
          'FAULT_RELAY_PAUSED: fault switches are refused unless ALLOW_FAULT_SWITCHES=true',
          'FAULT_HANDLER_FAIL_TIMES: fault switches are refused unless ALLOW_FAULT_SWITCHES=true',
        ]),
      );
    },
  );

  test('when ALLOW_FAULT_SWITCHES is false, then a fault switch is still refused', () => {
    const environment = { ALLOW_FAULT_SWITCHES: 'false', FAULT_HANDLER_FAIL_ALWAYS: 'true' };

    expect(problemsOf(() => loadConfig(schema, environment, [refuseFaultsUnlessAllowed]))).toEqual([
      'FAULT_HANDLER_FAIL_ALWAYS: fault switches are refused unless ALLOW_FAULT_SWITCHES=true',
    ]);
  });

  test('when fault switches are set to off without ALLOW_FAULT_SWITCHES, then nothing is refused', () => {
    const config = loadConfig(
      schema,
      { FAULT_RELAY_PAUSED: 'false', FAULT_HANDLER_FAIL_TIMES: '0' },
      [refuseFaultsUnlessAllowed],
    );

    expect(config).toMatchObject({ FAULT_RELAY_PAUSED: false, FAULT_HANDLER_FAIL_TIMES: 0 });
  });

  test('when ALLOW_FAULT_SWITCHES=true, then fault switches are parsed', () => {
    const config = loadConfig(
      schema,
      {
        ALLOW_FAULT_SWITCHES: 'true',
        FAULT_HANDLER_FAIL_ALWAYS: 'true',
        FAULT_MESSAGE_TYPES: 'NewOrder, ShipOrder',
      },
      [refuseFaultsUnlessAllowed],
    );

    expect(config).toMatchObject({
      ALLOW_FAULT_SWITCHES: true,
      FAULT_HANDLER_FAIL_ALWAYS: true,
      FAULT_MESSAGE_TYPES: ['NewOrder', 'ShipOrder'],
    });
  });

  test('when only the fault-switch token is set, then nothing is refused (it guards the switches, it is not one)', () => {
    expect(
      problemsOf(() =>
        loadConfig(
          schema,
          { FAULT_SWITCHES_TOKEN: 'workshop-token-local-only', FAULT_RELAY_PAUSED: 'true' },
          [refuseFaultsUnlessAllowed],
        ),
      ),
    ).toEqual(['FAULT_RELAY_PAUSED: fault switches are refused unless ALLOW_FAULT_SWITCHES=true']);
  });

  test('when ALLOW_FAULT_SWITCHES=true in production, then fault switches are let through', () => {
    const config = loadConfig(
      schema,
      { NODE_ENV: 'production', ALLOW_FAULT_SWITCHES: 'true', FAULT_RELAY_PAUSED: 'true' },
      [refuseFaultsUnlessAllowed],
    );

    expect(config).toMatchObject({
      NODE_ENV: 'production',
      ALLOW_FAULT_SWITCHES: true,
      FAULT_RELAY_PAUSED: true,
    });
  });

  test('when several variables are wrong, then one ConfigError lists every problem at once', () => {
    const environment = {
      PORT: 'eighty',
      LOG_LEVEL: 'loud',
      RABBITMQ_URL: 'http://broker:5672',
      DATABASE_URL: 'not a url',
      PREFETCH: '0',
    };

    const problems = problemsOf(() => loadConfig(schema, environment));

    expect(problems).toHaveLength(5);
    for (const variable of Object.keys(environment)) {
      expect(problems).toContainEqual(expect.stringMatching(new RegExp(`^${variable}: `)));
    }
    expect(() => loadConfig(schema, environment)).toThrow(
      expect.objectContaining({
        name: 'ConfigError',
        message: expect.stringContaining('  - RABBITMQ_URL: '),
      }),
    );
  });

  test('when a variable is set to an empty string, then it falls back to its default', () => {
    const config = loadConfig(schema, {
      PORT: '',
      RABBITMQ_URL: '',
      RETRY_DELAYS_MS: '',
      LOG_LEVEL: '',
    });

    expect(config.PORT).toBe(3003);
    expect(config.RABBITMQ_URL).toBe('amqp://guest:guest@127.0.0.1:5672');
    expect(config.RETRY_DELAYS_MS).toEqual([1_000, 5_000, 25_000]);
    expect(config.LOG_LEVEL).toBe('info');
  });

  test('when values are given as strings, then numbers are coerced and unknown variables ignored', () => {
    const config = loadConfig(schema, {
      PORT: '0',
      PREFETCH: '4',
      DB_POOL_SIZE: '20',
      HOME: '/root',
      INSTANCE_ID: 'b',
    });

    expect(config).toMatchObject({ PORT: 0, PREFETCH: 4, DB_POOL_SIZE: 20, INSTANCE_ID: 'b' });
    expect(config).not.toHaveProperty('HOME');
  });

  test('when RETRY_DELAYS_MS is a comma-separated list, then it is parsed to milliseconds, spaces allowed', () => {
    expect(loadConfig(schema, { RETRY_DELAYS_MS: '50, 100,2000' }).RETRY_DELAYS_MS).toEqual([
      50, 100, 2_000,
    ]);
  });

  test.each(['1000,abc', '1000,,2000', '-5', '0', '1.5', 'abc'])(
    'when RETRY_DELAYS_MS is %p, then it is refused',
    (value) => {
      expect(problemsOf(() => loadConfig(schema, { RETRY_DELAYS_MS: value }))).toEqual([
        expect.stringMatching(
          /^RETRY_DELAYS_MS: must be a comma-separated list of positive integers/,
        ),
      ]);
    },
  );

  test.each([
    'http://guest:guest@127.0.0.1:5672',
    'postgresql://127.0.0.1/x',
    '127.0.0.1:5672',
    'amqp',
  ])('when RABBITMQ_URL is %p, then it is refused for its scheme', (value) => {
    expect(problemsOf(() => loadConfig(schema, { RABBITMQ_URL: value }))).toEqual([
      'RABBITMQ_URL: must be a URL with scheme amqp or amqps',
    ]);
  });

  test.each(['amqp://user:pw@broker:5672/vhost', 'amqps://broker'])(
    'when RABBITMQ_URL is %p, then it is accepted',
    (value) => {
      expect(loadConfig(schema, { RABBITMQ_URL: value }).RABBITMQ_URL).toBe(value);
    },
  );

  test.each([
    ['2', 2],
    ['0', 0],
    ['60', 60],
  ])(
    'when RABBITMQ_HEARTBEAT_SECONDS is %p, then the heartbeat is %p seconds',
    (value, seconds) => {
      expect(
        loadConfig(schema, { RABBITMQ_HEARTBEAT_SECONDS: value }).RABBITMQ_HEARTBEAT_SECONDS,
      ).toBe(seconds);
    },
  );

  test.each(['-1', '1.5', 'ten', '601'])(
    'when RABBITMQ_HEARTBEAT_SECONDS is %p, then it is refused',
    (value) => {
      expect(problemsOf(() => loadConfig(schema, { RABBITMQ_HEARTBEAT_SECONDS: value }))).toEqual([
        expect.stringMatching(/^RABBITMQ_HEARTBEAT_SECONDS: /),
      ]);
    },
  );

  test('when a port is out of range, then it is refused', () => {
    expect(problemsOf(() => loadConfig(schema, { PORT: '70000' }))).toEqual([
      expect.stringMatching(/^PORT: /),
    ]);
  });

  test('when a schema is extended by a service, then its own variables are checked together with the common ones', () => {
    const extended = serviceEnvSchema('order', 3001).extend({ FEATURE_LIMIT: env.positiveInt(3) });

    expect(problemsOf(() => loadConfig(extended, { FEATURE_LIMIT: '-1', PORT: 'x' }))).toEqual([
      expect.stringMatching(/^PORT: /),
      expect.stringMatching(/^FEATURE_LIMIT: /),
    ]);
    expect(loadConfig(extended, {}).FEATURE_LIMIT).toBe(3);
  });

  test('when the schema fails at its root, then the problem is named (root)', () => {
    expect(problemsOf(() => loadConfig(z.string(), {}))).toEqual([
      expect.stringMatching(/^\(root\): /),
    ]);
  });
});

describe('backoffDelay', () => {
  test.each([
    [1, 100, 10_000, 50, 100],
    [2, 100, 10_000, 100, 200],
    [4, 100, 10_000, 400, 800],
    [10, 100, 10_000, 5_000, 10_000],
    [50, 100, 10_000, 5_000, 10_000],
    [0, 100, 10_000, 50, 100],
  ])(
    'when attempt %p has base %p and cap %p, then the delay lies between %p and %p',
    (attempt, base, cap, low, high) => {
      for (let i = 0; i < 200; i += 1) {
        const delay = backoffDelay(attempt, base, cap);
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(low);
        expect(delay).toBeLessThanOrEqual(high);
      }
    },
  );

  test('when the random source is at its extremes, then the delay spans half the ceiling to the ceiling', () => {
    const random = jest.spyOn(Math, 'random');
    try {
      random.mockReturnValue(0);
      expect(backoffDelay(3, 100, 10_000)).toBe(200);
      random.mockReturnValue(0.999_999);
      expect(backoffDelay(3, 100, 10_000)).toBe(400);
    } finally {
      random.mockRestore();
    }
  });
});

describe('a broker cluster in RABBITMQ_URL', () => {
  const schema = serviceEnvSchema('invoicing', 3002);
  const nodes = [5681, 5682, 5683].map(
    (port) => `amqp://invoicing:s3cret-from-vault@127.0.0.1:${port}/messaging`,
  );

  test('when RABBITMQ_URL lists three nodes, then the list is accepted as given', () => {
    const config = loadConfig(schema, { RABBITMQ_URL: nodes.join(', ') });

    expect(config.RABBITMQ_URL).toBe(nodes.join(', '));
  });

  test('when one entry of the list is not an AMQP URL, then the error names that entry without its password', () => {
    const problems = problemsOf(() =>
      loadConfig(schema, {
        RABBITMQ_URL: `${nodes[0]},http://invoicing:s3cret-from-vault@127.0.0.1:15682,${nodes[2]}`,
      }),
    );

    expect(problems).toEqual([
      'RABBITMQ_URL: entry 2 (http://invoicing:***@127.0.0.1:15682) must be a URL with scheme amqp or amqps',
    ]);
  });

  test('when one node of the list uses a local-only password, then production refuses it', () => {
    const problems = problemsOf(() =>
      loadServiceConfig('invoicing', schema, {
        NODE_ENV: 'production',
        DATABASE_URL: 'postgresql://invoicing_service:s3cret-from-vault@db:5432/invoicing',
        RABBITMQ_URL: `${nodes[0]},amqp://invoicing:invoicing-local-only@127.0.0.1:5682/messaging`,
      }),
    );

    expect(problems).toEqual([
      'RABBITMQ_URL: a local-only default password is refused when NODE_ENV=production',
    ]);
  });

  test('when RABBITMQ_QUORUM_REPLICAS is 3, then it is read as a number; unset, it stays unset', () => {
    expect(loadConfig(schema, { RABBITMQ_QUORUM_REPLICAS: '3' }).RABBITMQ_QUORUM_REPLICAS).toBe(3);
    expect(loadConfig(schema, {}).RABBITMQ_QUORUM_REPLICAS).toBeUndefined();
  });
});
