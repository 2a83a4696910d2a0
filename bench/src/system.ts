import { existsSync } from 'node:fs';
import path from 'node:path';
import { ServiceNames, type ServiceName } from '@app/contracts';
import {
  REPO_ROOT,
  ServiceProcess,
  freePort,
  recreateDatabase,
  recreateVhost,
  uniqueTestName,
  type NamedDatabase,
  type TestVhost,
} from '@app/testing';
import type { BenchConfig } from './config';

/**
 * The four services as child processes, started the way `make up` starts them, on a vhost
 * and databases of their own (`test_bench_*`, made for this run and dropped after it), so
 * benchmark rows never reach the `make up` databases or the tests'.
 */
export class BenchSystem {
  private constructor(
    readonly name: string,
    readonly vhost: TestVhost,
    readonly databases: Record<ServiceName, NamedDatabase>,
    readonly services: Record<ServiceName, ServiceProcess>,
  ) {}

  static async start(config: BenchConfig): Promise<BenchSystem> {
    const unbuilt = ServiceNames.filter(
      (service) => !existsSync(path.join(REPO_ROOT, 'services', service, 'dist', 'main.js')),
    );
    if (unbuilt.length > 0) throw new Error(`not built: ${unbuilt.join(', ')}; run \`make build\``);
    const name = uniqueTestName('bench');
    const vhost = await recreateVhost({
      rabbitmqUrl: config.BENCH_RABBITMQ_URL,
      managementUrl: config.BENCH_RABBITMQ_MANAGEMENT_URL,
      name,
    });
    if (!vhost) {
      throw new Error(
        `could not make vhost ${name}: run as a user that may use rabbitmqctl, or set BENCH_RABBITMQ_MANAGEMENT_URL`,
      );
    }
    const databases = {} as Record<ServiceName, NamedDatabase>;
    const services = {} as Record<ServiceName, ServiceProcess>;
    try {
      for (const service of ServiceNames) {
        databases[service] = await recreateDatabase({
          adminUrl: config.BENCH_POSTGRES_URL,
          name: `${name}_${service}`.slice(0, 63),
          service,
        });
      }
      for (const service of ServiceNames) {
        services[service] = ServiceProcess.start(
          service,
          {
            // As deployed: no fault switches, and logging each message would be measured too.
            NODE_ENV: 'production',
            LOG_LEVEL: 'warn',
            DATABASE_URL: databases[service].url,
            RABBITMQ_URL: vhost.url,
            ...config.BENCH_SERVICE_ENV,
          },
          await freePort(),
        );
      }
      await Promise.all(Object.values(services).map((service) => service.waitUntilReady(60_000)));
    } catch (err) {
      await new BenchSystem(name, vhost, databases, services).teardown();
      throw err;
    }
    return new BenchSystem(name, vhost, databases, services);
  }

  url(service: ServiceName): string {
    return this.services[service].url;
  }

  /** Stops the services (SIGTERM) and drops the vhost and databases. */
  async teardown(): Promise<void> {
    await Promise.all(Object.values(this.services).map((service) => service.stop()));
    await Promise.all(Object.values(this.databases).map((db) => db.drop()));
    await this.vhost.delete();
  }
}
