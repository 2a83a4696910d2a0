import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Infrastructure } from './infrastructure';

const run = promisify(execFile);

/**
 * Runs an administration command (`rabbitmqctl ...`) where a server lives: on this machine,
 * or inside the container that testcontainers started. Everything the harness does to a
 * server beyond the wire protocols goes through one of these, so a run on containers never
 * reaches the machine's own servers.
 */
export interface CommandRunner {
  /** `local` (this machine) or `container <id>`: said in errors, so a failure names where. */
  readonly where: string;
  /** Resolves with stdout; rejects with the exit code and stderr when the command fails. */
  run(command: readonly string[], options?: { timeoutMs?: number }): Promise<string>;
}

/** Commands on this machine (a local broker: `rabbitmqctl` needs its Erlang cookie, as root has). */
export const localCommands: CommandRunner = {
  where: 'local',
  async run([file, ...args], { timeoutMs = 120_000 } = {}) {
    if (!file) throw new Error('no command');
    const { stdout } = await run(file, args, { timeout: timeoutMs });
    return stdout;
  },
};

/** Commands inside a running container, through the container runtime's exec (`container.exec`). */
export function containerCommands(containerId: string, user?: string): CommandRunner {
  const where = `container ${containerId.slice(0, 12)}`;
  return {
    where,
    async run(command, { timeoutMs = 120_000 } = {}) {
      const { getContainerRuntimeClient } = await import('testcontainers');
      const client = await getContainerRuntimeClient();
      const container = client.container.getById(containerId);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${command.join(' ')} in ${where}: no answer in ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      try {
        const result = await Promise.race([
          client.container.exec(container, [...command], { log: false, ...(user ? { user } : {}) }),
          timeout,
        ]);
        if (result.exitCode !== 0) {
          throw new Error(
            `${command.join(' ')} in ${where} exited with ${result.exitCode}: ${(result.stderr || result.output).trim()}`,
          );
        }
        return result.stdout;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** A connection as the broker lists it (`rabbitmqctl list_connections`). */
export interface BrokerConnection {
  vhost: string;
  /** The connection's Erlang process id, which `close_connection` takes. */
  pid: string;
  /** The broker's name for the connection ("127.0.0.1:41982 -> 127.0.0.1:5672"). */
  name: string;
  user: string;
  /** The `connection_name` client property (empty when the client set none). */
  connectionName: string;
}

/**
 * What the harness does to a RabbitMQ node with `rabbitmqctl`: vhosts, users and
 * permissions, connections, stopping and starting the broker app. One implementation over a
 * `CommandRunner`: `localCommands` for the machine's broker, `containerCommands` for a
 * container's; `brokerControl` picks the one of the servers the run uses.
 */
export class BrokerControl {
  constructor(readonly commands: CommandRunner) {}

  /** `rabbitmqctl -q ARGS` on the node; resolves with its output. */
  rabbitmqctl(...args: string[]): Promise<string> {
    return this.commands.run(['rabbitmqctl', '-q', ...args]);
  }

  async addVhost(name: string, user: string): Promise<void> {
    await this.rabbitmqctl('add_vhost', name);
    await this.setPermissions(name, user, '.*', '.*', '.*');
  }

  /** Deletes the vhost; a missing one is no error. */
  async deleteVhost(name: string): Promise<void> {
    await this.rabbitmqctl('delete_vhost', name).catch(() => undefined);
  }

  async ensureUser(name: string, password: string): Promise<void> {
    const users = await this.rabbitmqctl('list_users');
    if (!users.split('\n').some((line) => line.split('\t')[0] === name)) {
      await this.rabbitmqctl('add_user', name, password);
    }
  }

  async setPermissions(
    vhost: string,
    user: string,
    configure: string,
    write: string,
    read: string,
  ): Promise<void> {
    await this.rabbitmqctl('set_permissions', '-p', vhost, user, configure, write, read);
  }

  /** Every connection of the node (`list_connections` ignores `-p`: filter by `vhost`). */
  async listConnections(): Promise<BrokerConnection[]> {
    // The table output, not JSON: only it prints pids the way close_connection takes them.
    const out = await this.rabbitmqctl(
      'list_connections',
      '--no-table-headers',
      'vhost',
      'pid',
      'name',
      'user',
      'client_properties',
    );
    return out
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const [vhost = '', pid = '', name = '', user = '', properties = ''] = line.split('\t');
        const connectionName = /\{"connection_name","([^"]*)"\}/.exec(properties)?.[1] ?? '';
        return { vhost, pid, name, user, connectionName };
      });
  }

  async closeConnection(pid: string, reason: string): Promise<void> {
    await this.rabbitmqctl('close_connection', pid, reason);
  }

  /** Stops the RabbitMQ application; the Erlang node stays up, so `rabbitmqctl` keeps answering. */
  async stopApp(): Promise<void> {
    await this.rabbitmqctl('stop_app');
  }

  /** Starts the broker app (a no-op when it runs) and waits until it has booted. */
  async startApp(): Promise<void> {
    await this.rabbitmqctl('start_app');
    await this.rabbitmqctl('await_startup');
  }
}

/**
 * The control of the broker the run uses: inside its container when testcontainers started
 * it, else the machine's `rabbitmqctl` (whose node follows RABBITMQ_NODENAME).
 */
export function brokerControl(
  infrastructure: Pick<Infrastructure, 'rabbitmqContainerId'>,
): BrokerControl {
  return new BrokerControl(
    infrastructure.rabbitmqContainerId
      ? containerCommands(infrastructure.rabbitmqContainerId)
      : localCommands,
  );
}

/**
 * Stopping and starting the Postgres server the run uses, as a database restart or crash
 * would: the machine's cluster with `pg_ctlcluster` (Debian's postgresql-common), or the
 * server in its container (`pg_ctl stop -m fast` inside it, which ends the container, then
 * the container started again on the same host port). Only the `faults-serial` jest project
 * may call `stop`: every test file shares the server.
 */
export interface PostgresControl {
  readonly where: string;
  /** Stops the server, ending its connections at once (fast shutdown). */
  stop(): Promise<void>;
  /** Starts the server (a no-op when it runs) and waits until it accepts connections. */
  start(): Promise<void>;
}

/** The machine's cluster; `start` is a no-op where none is installed (nothing to restart). */
export const localPostgres: PostgresControl = {
  where: 'local',
  async stop() {
    const [version, name] = await localCluster();
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, 'stop', '-m', 'fast'], {
      timeout: 120_000,
    });
  },
  async start() {
    const cluster = await localCluster().catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!cluster) return;
    const [version, name] = cluster;
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, 'start'], {
      timeout: 120_000,
    }).catch((err: { stdout?: string; stderr?: string }) => {
      if (!/already running/i.test(`${err.stdout} ${err.stderr}`)) throw err;
    });
    await run('pg_isready', ['-q', '-t', '60', '-h', '127.0.0.1'], { timeout: 90_000 });
  },
};

async function localCluster(): Promise<[version: string, name: string]> {
  const versions = await readdir('/etc/postgresql');
  if (versions.length !== 1) throw new Error(`expected one Postgres version, found ${versions}`);
  return [versions[0]!, 'main'];
}

/** The server in a container that testcontainers started (with a fixed host port, so a restart keeps it). */
export function containerPostgres(containerId: string): PostgresControl {
  const commands = containerCommands(containerId, 'postgres');
  const running = async (): Promise<boolean> => {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const client = await getContainerRuntimeClient();
    return (await client.container.inspect(client.container.getById(containerId))).State.Running;
  };
  const until = async (what: string, check: () => Promise<boolean>): Promise<void> => {
    const deadline = Date.now() + 90_000;
    while (!(await check().catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`${what} in ${commands.where}: not within 90 s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  return {
    where: commands.where,
    async stop() {
      // Postgres is the container's main process: the exec ends with it, so its answer is moot.
      await commands
        .run(['pg_ctl', 'stop', '-m', 'fast', '-D', '/var/lib/postgresql/data'])
        .catch(() => undefined);
      await until('Postgres to stop', async () => !(await running()));
    },
    async start() {
      if (!(await running())) {
        const { getContainerRuntimeClient } = await import('testcontainers');
        const client = await getContainerRuntimeClient();
        await client.container.start(client.container.getById(containerId));
      }
      await until('Postgres to accept connections', async () => {
        await commands.run(['pg_isready', '-q', '-h', '127.0.0.1', '-p', '5432'], {
          timeoutMs: 10_000,
        });
        return true;
      });
    },
  };
}

/** The control of the Postgres server the run uses: in its container, or the machine's. */
export function postgresControl(
  infrastructure: Pick<Infrastructure, 'postgresContainerId'>,
): PostgresControl {
  return infrastructure.postgresContainerId
    ? containerPostgres(infrastructure.postgresContainerId)
    : localPostgres;
}
