import { Registry } from 'prom-client';
import { createLogger } from '@app/runtime';
import {
  brokerControl,
  createTestVhost,
  currentInfrastructure,
  waitFor,
  type TestVhost,
} from '@app/testing';
import { BrokerConnection, registerConnectionMetrics } from '../../src';

/**
 * A broker URL list (a cluster's nodes) against the real broker: one entry points where
 * nothing listens, so the connection must fail over to the other, and the metrics must say
 * which node it is on and how often it came back.
 */
describe('a connection given several broker URLs', () => {
  let vhost: TestVhost;
  let connection: BrokerConnection | undefined;
  const registry = new Registry();

  beforeAll(async () => {
    vhost = await createTestVhost('failover');
  });

  afterAll(async () => {
    await connection?.close();
    await vhost?.delete();
  });

  const sample = async (name: string): Promise<string[]> =>
    (await registry.metrics()).split('\n').filter((line) => line.startsWith(name));

  test('when the first node does not answer, then it connects to the next, and after its connection is closed it comes back and counts one reconnect', async () => {
    const live = new URL(vhost.url);
    const dead = new URL(vhost.url);
    dead.port = '9'; // discard: nothing listens there
    connection = new BrokerConnection({
      url: `${dead.toString()}, ${live.toString()}`,
      connectionName: 'failover-test',
      logger: createLogger('failover-test', 'silent'),
    });
    registerConnectionMetrics(registry, connection);
    const liveNode = `${live.hostname}:${live.port || 5672}`;

    await waitFor('the connection to come up on the live node', () => connection!.isConnected(), {
      timeoutMs: 15_000,
    });
    expect(connection.node).toBe(liveNode);
    expect(await sample('broker_connected_node')).toEqual(
      expect.arrayContaining([
        `broker_connected_node{node="${dead.hostname}:9"} 0`,
        `broker_connected_node{node="${liveNode}"} 1`,
      ]),
    );
    expect(await sample('broker_reconnects_total')).toContain('broker_reconnects_total 0');

    const control = brokerControl(currentInfrastructure());
    const [own] = (await control.listConnections()).filter(
      (row) => row.connectionName === 'failover-test' && row.vhost === vhost.name,
    );
    await control.closeConnection(own!.pid, 'closed by the failover test');

    await waitFor(
      'one reconnect',
      () => connection!.reconnects === 1 && connection!.isConnected(),
      {
        timeoutMs: 20_000,
      },
    );
    expect(connection.node).toBe(liveNode);
    expect(await sample('broker_reconnects_total')).toContain('broker_reconnects_total 1');
  });
});
