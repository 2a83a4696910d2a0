import { ServiceNames, type ServiceName } from '@app/contracts';
import { BrokerPermissions, ObserverQueue } from '@app/broker';
import { LOCAL_DEFAULTS } from '@app/runtime';
import { currentInfrastructure } from './infrastructure';
import type { TestVhost } from './broker';
import { brokerControl } from './server-control';

/**
 * Gives each service's own broker user (named after the service, as `make setup` creates
 * them) its least-privilege permissions on a test vhost, creating a missing user with its
 * local-only default password. Returns each service's AMQP URL on that vhost. The
 * permissions disappear with the vhost. Needs rabbitmqctl (or the management API).
 */
export async function grantServicePermissions(
  vhost: TestVhost,
): Promise<Record<ServiceName, string>> {
  const admin = adminOf();
  const urls = {} as Record<ServiceName, string>;
  for (const service of ServiceNames) {
    const password = LOCAL_DEFAULTS.brokerPassword(service);
    await admin.ensureUser(service, password);
    const { configure, write, read } = BrokerPermissions[service];
    await admin.setPermissions(vhost.name, service, configure, write, read);
    const url = new URL(vhost.url);
    url.username = service;
    url.password = password;
    urls[service] = url.toString();
  }
  return urls;
}

/**
 * Gives the dashboard's broker user its permissions on a test vhost: read the observer
 * queue, nothing else. Returns its AMQP URL there.
 */
export async function grantObserverPermissions(
  vhost: TestVhost,
  managementUrl?: string,
): Promise<string> {
  const admin = adminOf(managementUrl);
  const user = ObserverQueue.user;
  const password = LOCAL_DEFAULTS.brokerPassword(user);
  await admin.ensureUser(user, password);
  const { configure, write, read } = ObserverQueue.permissions;
  await admin.setPermissions(vhost.name, user, configure, write, read);
  const url = new URL(vhost.url);
  url.username = user;
  url.password = password;
  return url.toString();
}

interface UserAdmin {
  ensureUser(name: string, password: string): Promise<void>;
  setPermissions(
    vhost: string,
    user: string,
    configure: string,
    write: string,
    read: string,
  ): Promise<void>;
}

function adminOf(managementUrl?: string): UserAdmin {
  const infrastructure = currentInfrastructure();
  const management = managementUrl ?? infrastructure.rabbitmqManagementUrl;
  // rabbitmqctl where the broker runs: in its container, or on this machine.
  if (!management) return brokerControl(infrastructure);
  const base = new URL(management);
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`;
  const call = async (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(new URL(path, `${base.protocol}//${base.host}`), {
      method,
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return {
    async ensureUser(name, password) {
      const existing = await call('GET', `/api/users/${encodeURIComponent(name)}`);
      if (existing.status === 404)
        await call('PUT', `/api/users/${encodeURIComponent(name)}`, { password, tags: '' });
    },
    async setPermissions(vhost, user, configure, write, read) {
      const response = await call(
        'PUT',
        `/api/permissions/${encodeURIComponent(vhost)}/${encodeURIComponent(user)}`,
        {
          configure,
          write,
          read,
        },
      );
      if (!response.ok)
        throw new Error(
          `setting permissions of ${user}: ${response.status} ${await response.text()}`,
        );
    },
  };
}
