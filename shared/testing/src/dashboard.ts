import { ServiceNames } from '@app/contracts';
import { grantObserverPermissions } from './least-privilege';
import { ServiceProcess, freePort } from './processes';
import type { RunningSystem } from './system';
import { TestBroker } from './test-broker';

/**
 * Starts the dashboard as a process (as `make up` does) beside a system's services: the
 * observer queue declared and bound by the harness's administrator, the dashboard's own
 * read-only broker user on the system's vhost, and every service's address. Needs the
 * dashboard built (`npm run build`). The system's teardown stops it.
 */
export async function startDashboard(
  system: RunningSystem,
  env: Record<string, string> = {},
  options: { port?: number; managementUrl?: string } = {},
): Promise<ServiceProcess & { brokerUrl: string }> {
  const admin = await TestBroker.connect(system.vhost.url);
  try {
    await admin.declareExchanges();
    await admin.declareObserverQueue();
  } finally {
    await admin.close();
  }
  const brokerUrl = await grantObserverPermissions(system.vhost, options.managementUrl);
  const urls = Object.fromEntries(
    ServiceNames.filter((service) => system.isRunning(service)).map((service) => [
      `${service.toUpperCase()}_URL`,
      system.url(service),
    ]),
  );
  const dashboard = ServiceProcess.start(
    'dashboard',
    { RABBITMQ_URL: brokerUrl, ...urls, ...env },
    options.port || (await freePort()),
  );
  // The system's teardown stops it with the services.
  system.processes.push(dashboard);
  await dashboard.waitUntilReady();
  return Object.assign(dashboard, { brokerUrl });
}
