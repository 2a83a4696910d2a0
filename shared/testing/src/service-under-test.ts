import type { ServiceName } from '@app/contracts';
import { createTestVhost, type TestVhost } from './broker';
import { createTestDatabase, type TestDatabase } from './databases';
import { request } from './http';
import { TestBroker } from './test-broker';
import { waitFor } from './wait';

export interface StartedService {
  port: number;
  stop(): Promise<void>;
}

export interface ServiceUnderTest<S extends StartedService> {
  vhost: TestVhost;
  db: TestDatabase;
  broker: TestBroker;
  service: S;
  url: string;
  /** Stops the service and removes the broker connection, database and vhost. */
  teardown(): Promise<void>;
}

/**
 * One service started in-process on port 0, on its own vhost and database, ready (its
 * queues declared), with a test broker client on the same vhost that has declared
 * every exchange of the contract. `start` receives the environment to parse.
 */
export async function startServiceUnderTest<S extends StartedService>(
  service: ServiceName,
  label: string,
  start: (env: NodeJS.ProcessEnv) => Promise<S>,
  env: Record<string, string> = {},
): Promise<ServiceUnderTest<S>> {
  const vhost = await createTestVhost(label);
  const db = await createTestDatabase(service, label);
  const broker = await TestBroker.connect(vhost.url);
  await broker.declareExchanges();
  const running = await start({
    PORT: '0',
    DATABASE_URL: db.url,
    RABBITMQ_URL: vhost.url,
    LOG_LEVEL: 'silent',
    RETRY_DELAYS_MS: '50,100',
    ALLOW_FAULT_SWITCHES: 'true',
    ...env,
  });
  const url = `http://127.0.0.1:${running.port}`;
  await waitFor(
    `${service} to be ready`,
    async () => (await request(`${url}/health/ready`)).status === 200,
  );
  return {
    vhost,
    db,
    broker,
    service: running,
    url,
    async teardown() {
      await running.stop();
      await broker.close();
      await db.drop();
      await vhost.delete();
    },
  };
}
