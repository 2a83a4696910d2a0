import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import amqplib from 'amqplib';
import { Client } from 'pg';
import { brokerControl, currentInfrastructure, localContacts, waitFor } from '@app/testing';

const run = promisify(execFile);
const infrastructure = currentInfrastructure();
const onContainers = infrastructure.source === 'testcontainers';

/**
 * Asks the machine's own servers what they see, from outside the run's tripwire: through a
 * shell, so the tools it starts are not processes of the run. Undefined when the machine has
 * no such server (a laptop with Docker only): then there is nothing it could have seen.
 */
async function askLocal(command: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('/bin/sh', ['-c', command], { timeout: 60_000 });
    return stdout;
  } catch {
    return undefined;
  }
}

/**
 * In the `faults-serial` project, which runs after every other project of the run: by then
 * the tripwire has seen every test file's processes. Runs only on containers (elsewhere the
 * machine's servers are the run's servers).
 */
(onContainers ? describe : describe.skip)(
  "on containers, no test reaches this machine's own RabbitMQ or Postgres",
  () => {
    test('when the tripwire is armed in a process of the run, then it records a connection to a guarded port and a run of rabbitmqctl', async () => {
      const folder = await mkdtemp(path.join(tmpdir(), 'tripwire-'));
      const listener = createServer((socket) => socket.destroy());
      await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
      const { port } = listener.address() as AddressInfo;
      const file = path.join(folder, 'contacts.jsonl');
      try {
        // A throw-away listener stands for a local server: the check needs no real one.
        const script = `
          const net = require('node:net');
          const { spawn } = require('node:child_process');
          const socket = net.connect(${port}, '127.0.0.1', () => socket.destroy());
          socket.on('error', () => undefined);
          spawn('rabbitmqctl', ['status']).on('error', () => undefined);
          setTimeout(() => process.exit(0), 300);`;
        await new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, ['-e', script], {
            env: {
              ...process.env,
              PATH: '/nonexistent',
              TEST_TRIPWIRE_FILE: file,
              TEST_TRIPWIRE_PORTS: String(port),
            },
            stdio: 'ignore',
          });
          child.on('error', reject);
          child.on('exit', () => resolve());
        });

        const contacts = localContacts(file);

        expect(contacts.map((c) => `${c.what} ${c.target}`).sort()).toEqual([
          `connect 127.0.0.1:${port}`,
          'exec rabbitmqctl status',
        ]);
      } finally {
        listener.close();
        await rm(folder, { recursive: true, force: true });
      }
    });

    test("when every other test file has run, then the tripwire recorded no contact with this machine's own servers", () => {
      const file = process.env.TEST_TRIPWIRE_FILE;

      expect(file).toBeDefined();
      expect(process.env.NODE_OPTIONS).toContain('tripwire');
      expect(localContacts(file!)).toEqual([]);
    });

    test("when the harness connects to its broker and database, then the container's servers see the connections and this machine's own do not", async () => {
      const probe = `isolation-probe-${process.env.TEST_RUN_ID ?? process.pid}`;
      const connection = await amqplib.connect(infrastructure.rabbitmqUrl, {
        clientProperties: { connection_name: probe },
      });
      const client = new Client({
        connectionString: infrastructure.postgresUrl,
        application_name: probe,
      });
      await client.connect();
      try {
        const inContainer = await waitFor('the container broker to list the probe', async () =>
          (await brokerControl(infrastructure).listConnections()).find(
            (c) => c.connectionName === probe,
          ),
        );
        const [session] = (
          await client.query<{ n: string }>(
            'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1',
            [probe],
          )
        ).rows;

        const localBroker = await askLocal('rabbitmqctl -q list_connections client_properties');
        const localPostgres = await askLocal(
          `psql -h 127.0.0.1 -U postgres -d postgres -Atc "SELECT application_name FROM pg_stat_activity"`,
        );

        expect(inContainer.connectionName).toBe(probe);
        expect(Number(session?.n)).toBe(1);
        if (localBroker !== undefined) expect(localBroker).not.toContain(probe);
        if (localPostgres !== undefined) expect(localPostgres).not.toContain(probe);
        console.log(
          `[isolation] the container's broker and Postgres list the probe; ` +
            `this machine's broker: ${localBroker === undefined ? 'none' : 'does not'}, ` +
            `Postgres: ${localPostgres === undefined ? 'none' : 'does not'}`,
        );
      } finally {
        await connection.close().catch(() => undefined);
        await client.end().catch(() => undefined);
      }
    });
  },
);
