import { ServiceNames, type ServiceName } from '@app/contracts';
import { createTestVhost, type TestVhost } from './broker';
import { createTestDatabase, type TestDatabase } from './databases';
import { grantServicePermissions } from './least-privilege';
import { TestBroker } from './test-broker';
import { ServiceProcess, freePort } from './processes';

export interface TestSystem {
  vhost: TestVhost;
  /** Each service's broker URL: its own user with `leastPrivilege`, else the harness's. */
  brokerUrls: Record<ServiceName, string>;
  /** Of the services started (all four unless `only` named fewer). */
  databases: Record<ServiceName, TestDatabase>;
  services: Record<ServiceName, ServiceProcess>;
  /** Starts a service again (after `kill` or `stop`) with the same database, vhost and port. */
  restart(service: ServiceName, env?: Record<string, string>): Promise<ServiceProcess>;
  /** Stops every service with SIGTERM and removes the vhost and databases. */
  teardown(): Promise<void>;
}

/**
 * The four services as real child processes on their own vhost and databases, as a user
 * would run them, ready to be driven over HTTP. Needs the services built (`npm run build`).
 */
export async function startTestSystem(
  label: string,
  env: Partial<Record<ServiceName, Record<string, string>>> = {},
  only: readonly ServiceName[] = ServiceNames,
  options: { leastPrivilege?: boolean } = {},
): Promise<TestSystem> {
  const vhost = await createTestVhost(label);
  const brokerUrls = Object.fromEntries(ServiceNames.map((s) => [s, vhost.url])) as Record<
    ServiceName,
    string
  >;
  if (options.leastPrivilege) {
    // As on a deployed broker: each service its own user, the exchanges declared up front
    // (infra/rabbitmq/definitions.json does that there; the harness's user here).
    Object.assign(brokerUrls, await grantServicePermissions(vhost));
    const admin = await TestBroker.connect(vhost.url);
    await admin.declareExchanges();
    await admin.close();
  }
  const databases = {} as Record<ServiceName, TestDatabase>;
  const services = {} as Record<ServiceName, ServiceProcess>;
  const ports = {} as Record<ServiceName, number>;
  const envOf = (
    service: ServiceName,
    extra: Record<string, string> = {},
  ): Record<string, string> => ({
    DATABASE_URL: databases[service].url,
    RABBITMQ_URL: brokerUrls[service],
    ...env[service],
    ...extra,
  });
  const teardown = async (): Promise<void> => {
    await Promise.all(Object.values(services).map((service) => service.stop()));
    await Promise.all(Object.values(databases).map((db) => db.drop()));
    await vhost.delete();
  };
  try {
    for (const service of only) {
      databases[service] = await createTestDatabase(service, label);
      ports[service] = await freePort();
    }
    for (const service of only) {
      services[service] = ServiceProcess.start(service, envOf(service), ports[service]);
    }
    await Promise.all(Object.values(services).map((service) => service.waitUntilReady()));
  } catch (err) {
    await teardown();
    throw err;
  }
  return {
    vhost,
    brokerUrls,
    databases,
    services,
    async restart(service, extra) {
      await services[service].stop();
      services[service] = ServiceProcess.start(service, envOf(service, extra), ports[service]);
      await services[service].waitUntilReady();
      return services[service];
    },
    teardown,
  };
}
