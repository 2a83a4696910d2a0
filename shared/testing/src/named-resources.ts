import type { TestVhost } from './broker';
import { makeVhost } from './broker';
import { createMigratedDatabase, dropDatabase, type MigratedDatabase } from './databases';

/**
 * Names of databases and vhosts the harness may drop and recreate without asking: test
 * ones (`test_*`) and the workshop demo's own (`demo`, `demo_*`). Anything else (the
 * services' own `order`, `invoicing`, ...) is refused.
 */
export function assertDisposableName(name: string): void {
  if (!/^(test|demo)(_[a-z0-9_]+)?$/.test(name)) {
    throw new Error(
      `Refusing to drop and recreate "${name}": only test_* and demo_* names are disposable`,
    );
  }
}

/** A database made by `recreateDatabase`; `close` lets it be, `drop` removes it. */
export type NamedDatabase = MigratedDatabase;

/**
 * Drops the database `name` if it exists, creates it afresh and applies `service`'s
 * committed migrations, the way the test databases are made, but with a name the caller
 * chooses (the demo's `demo_order`, say), so a run can be inspected afterwards and is
 * replaced by the next one.
 */
export async function recreateDatabase(options: {
  adminUrl: string;
  name: string;
  service: string;
}): Promise<NamedDatabase> {
  const { adminUrl, name, service } = options;
  assertDisposableName(name);
  await dropDatabase(adminUrl, name);
  return createMigratedDatabase(adminUrl, name, service);
}

/**
 * Deletes the vhost `name` if it exists and creates it empty, with every permission for
 * the user of `rabbitmqUrl`. Uses the management API when `managementUrl` is given,
 * otherwise `rabbitmqctl` (which needs the broker's Erlang cookie, as root has locally).
 * Resolves to undefined when neither is available, so the caller can decide what to do.
 */
export async function recreateVhost(options: {
  rabbitmqUrl: string;
  managementUrl?: string | undefined;
  rabbitmqContainerId?: string | undefined;
  name: string;
}): Promise<TestVhost | undefined> {
  assertDisposableName(options.name);
  return makeVhost({ ...options, replace: true }).catch(() => undefined);
}
