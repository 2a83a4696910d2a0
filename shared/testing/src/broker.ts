import { currentInfrastructure } from './infrastructure';
import { uniqueTestName } from './names';
import { BrokerControl, brokerControl } from './server-control';

export interface TestVhost {
  name: string;
  /** AMQP URL of the vhost, with the harness's user. */
  url: string;
  delete(): Promise<void>;
}

/**
 * A RabbitMQ vhost of its own for one test file, so two runs on one broker never see
 * each other's queues. Made with the management API when one is configured, otherwise
 * with `rabbitmqctl` where the broker runs (in its container, or locally, where it needs
 * the broker's Erlang cookie, as root has).
 */
export async function createTestVhost(label: string): Promise<TestVhost> {
  const infrastructure = currentInfrastructure();
  return makeVhost({
    rabbitmqUrl: infrastructure.rabbitmqUrl,
    managementUrl: infrastructure.rabbitmqManagementUrl,
    rabbitmqContainerId: infrastructure.rabbitmqContainerId,
    name: uniqueTestName(label),
  });
}

/**
 * Creates the vhost `name` with every permission on it for the user of `rabbitmqUrl`,
 * deleting one of that name first when `replace` is set.
 */
export async function makeVhost(options: {
  rabbitmqUrl: string;
  managementUrl?: string | undefined;
  /** The broker's container (testcontainers): `rabbitmqctl` runs there, not on this machine. */
  rabbitmqContainerId?: string | undefined;
  name: string;
  replace?: boolean;
}): Promise<TestVhost> {
  const { rabbitmqUrl, managementUrl, name } = options;
  const base = new URL(rabbitmqUrl);
  const user = decodeURIComponent(base.username || 'guest');
  const admin = vhostAdmin(managementUrl, options.rabbitmqContainerId);
  if (options.replace) await admin.deleteVhost(name);
  await admin.addVhost(name, user);
  const url = new URL(base.toString());
  url.pathname = `/${encodeURIComponent(name)}`;
  return { name, url: url.toString(), delete: () => admin.deleteVhost(name) };
}

/** Makes and removes vhosts: through the management API when given, else rabbitmqctl where the broker runs. */
export interface VhostAdmin {
  /** Creates the vhost, with every permission on it for `user`. */
  addVhost(name: string, user: string): Promise<void>;
  /** Deletes the vhost; a missing one is no error. */
  deleteVhost(name: string): Promise<void>;
}

export function vhostAdmin(managementUrl?: string, rabbitmqContainerId?: string): VhostAdmin {
  if (managementUrl) return managementApi(managementUrl);
  return withRabbitmqctl(brokerControl(rabbitmqContainerId ? { rabbitmqContainerId } : {}));
}

function withRabbitmqctl(control: BrokerControl): VhostAdmin {
  return {
    async addVhost(name, user) {
      try {
        await control.addVhost(name, user);
      } catch (err) {
        throw new Error(
          `Could not create test vhost ${name} with rabbitmqctl (${control.commands.where}: ${(err as Error).message.split('\n')[0]}). ` +
            'Run the tests as a user that may use rabbitmqctl, or set TEST_RABBITMQ_MANAGEMENT_URL.',
        );
      }
    },
    deleteVhost: (name) => control.deleteVhost(name),
  };
}

function managementApi(baseUrl: string): VhostAdmin {
  const base = new URL(baseUrl);
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`;
  const call = async (method: string, path: string, body?: unknown): Promise<void> => {
    const response = await fetch(new URL(path, `${base.protocol}//${base.host}`), {
      method,
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok && response.status !== 404) {
      throw new Error(
        `RabbitMQ management API ${method} ${path}: ${response.status} ${await response.text()}`,
      );
    }
  };
  return {
    async addVhost(name, user) {
      await call('PUT', `/api/vhosts/${encodeURIComponent(name)}`);
      await call(
        'PUT',
        `/api/permissions/${encodeURIComponent(name)}/${encodeURIComponent(user)}`,
        {
          configure: '.*',
          write: '.*',
          read: '.*',
        },
      );
    },
    async deleteVhost(name) {
      await call('DELETE', `/api/vhosts/${encodeURIComponent(name)}`);
    },
  };
}
