import { startSystem } from '../../src';

describe('startSystem', () => {
  test.each(['order', 'postgres', 'messaging', 'demox'])(
    'when asked for a system named %p (not a test or demo name), then it refuses before touching a server',
    async (name) => {
      // Servers that cannot answer: without the guard, the call fails another way.
      const nowhere = {
        rabbitmqUrl: 'amqp://127.0.0.1:1',
        rabbitmqManagementUrl: 'http://guest:guest@127.0.0.1:1',
        postgresUrl: 'postgresql://127.0.0.1:1/postgres',
      };
      await expect(startSystem({ name, servers: nowhere })).rejects.toThrow(
        /only test_\* and demo_\* names are disposable/,
      );
    },
  );

  test('when given neither a label nor a name, then it refuses', async () => {
    await expect(startSystem({})).rejects.toThrow(/either a label or a name/);
  });

  test('when given both a label and a name, then it refuses', async () => {
    await expect(startSystem({ label: 'x', name: 'test_x' })).rejects.toThrow(
      /either a label or a name/,
    );
  });
});
