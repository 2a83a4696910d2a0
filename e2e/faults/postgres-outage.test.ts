import type { ServiceName } from '@app/contracts';
import { TcpProxy, request, startSystem, waitFor, type RunningSystem } from '@app/testing';
import {
  consumedByOutcome,
  errorLines,
  crashLines,
  gate,
  isRunning,
  settledLedger,
  streamOrders,
} from './support';

/**
 * Postgres refuses Invoicing's, Shipping's and Statistics' connections for a few seconds
 * while orders stream in. The shared Postgres is not touched: those services reach their
 * databases through a TCP proxy that the test cuts (every connection dropped, new ones
 * refused) and restores. Handlers that fail meanwhile go through the retry queues, the relay
 * retries its batches, readiness says the database is down, and everything completes once.
 */
describe('fault: Postgres refuses connections for a few seconds under load', () => {
  const ORDERS = 100;
  /** The services whose database goes away; Order keeps its own, so orders keep being accepted. */
  const CUT_OFF: ServiceName[] = ['invoicing', 'shipping', 'statistics'];
  let system: RunningSystem;
  let proxy: TcpProxy;

  beforeAll(async () => {
    system = await startSystem({ label: 'fault_pg_outage' });
    const target = new URL(system.databases.invoicing.url);
    proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    for (const service of CUT_OFF) {
      await system.restart(service, {
        DATABASE_URL: proxy.proxiedUrl(system.databases[service].url),
      });
    }
  });

  afterAll(async () => {
    proxy?.restore();
    await system?.teardown();
    await proxy?.close();
  });

  test('when the database is unreachable for a few seconds during 100 orders, then readiness says so and every order completes exactly once', async () => {
    const { order } = system.services;
    expect(proxy.openConnections).toBeGreaterThan(0);
    const cutMade = gate();
    const stream = streamOrders(order.url, ORDERS, {
      concurrency: 10,
      gates: { 60: cutMade.opened },
    });
    /** Every readiness answer of the cut-off services while the database was away. */
    const readiness: { service: string; status: number; database: string }[] = [];
    const probeReadiness = async (): Promise<void> => {
      const answers = await Promise.all(
        CUT_OFF.map(async (service) => {
          // Bounded, so one readiness check that hangs cannot stall the others' probes.
          const response = await fetch(`${system.services[service].url}/health/ready`, {
            signal: AbortSignal.timeout(3_000),
          }).catch((err: Error) => ({ failed: err }));
          if ('failed' in response) {
            return { service, status: 0, database: `no answer: ${response.failed.message}` };
          }
          const body = (await response.json().catch(() => ({}))) as {
            checks?: { database?: string };
          };
          return { service, status: response.status, database: String(body.checks?.database) };
        }),
      );
      readiness.push(...answers);
    };

    let cutAt = 0;
    try {
      await waitFor('the first 30 orders', () => stream.answered() >= 30, { timeoutMs: 30_000 });
      proxy.cut();
      cutAt = Date.now();
      cutMade.open();
      // Arrange, not assert: keep the database away for about three seconds, and at least
      // until every cut-off service has noticed, probing readiness all along. A service that
      // died ends the wait at once; the assertions below say which and why.
      await waitFor(
        'the outage to be noticed and to last about three seconds',
        async () => {
          if (CUT_OFF.some((service) => !isRunning(system.services[service]))) return true;
          await probeReadiness();
          const noticed = CUT_OFF.every((service) =>
            readiness.some((r) => r.service === service && r.status === 503),
          );
          return noticed && Date.now() - cutAt >= 3_000;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
    } finally {
      cutMade.open();
      proxy.restore();
    }
    const responses = await stream.done;

    // No service died of it: a database fault is handled where it occurs.
    for (const service of Object.values(system.services)) {
      expect({ service: service.service, crashes: crashLines(service) }).toEqual({
        service: service.service,
        crashes: [],
      });
      expect({ service: service.service, running: isRunning(service) }).toEqual({
        service: service.service,
        running: true,
      });
    }
    expect(proxy.stats.refused).toBeGreaterThan(0);
    for (const service of CUT_OFF) {
      const during = readiness.filter((r) => r.service === service && r.status === 503);
      expect(during.length).toBeGreaterThan(0);
      expect(during[0]!.database).toBe('down');
    }
    if (responses.some((r) => r.status !== 202)) console.log(errorLines(order).join('\n'));
    expect(responses.filter((r) => r.status !== 202)).toEqual([]);
    const orderIds = responses.map((r) => r.id!);
    const ledger = await settledLedger(system, orderIds, 120_000);
    const outcomes = await consumedByOutcome(system.services);
    console.log(
      `database cut for ${CUT_OFF.join(', ')} during ${ORDERS} orders (${proxy.stats.refused} connections refused): redeliveries absorbed by the inbox ${JSON.stringify(ledger.redeliveries)}; deliveries by outcome ${JSON.stringify(outcomes)}; first 503 ${JSON.stringify(readiness.find((r) => r.status === 503))}`,
    );
    expect(ledger).toMatchObject({
      orders: ORDERS,
      completed: ORDERS,
      lost: [],
      doubled: [],
      miscounted: [],
    });
    for (const [service, byOutcome] of Object.entries(outcomes)) {
      expect({ service, deadLettered: byOutcome['dead-lettered'] ?? 0 }).toEqual({
        service,
        deadLettered: 0,
      });
    }
    for (const service of Object.values(system.services)) {
      expect(isRunning(service)).toBe(true);
      expect(crashLines(service)).toEqual([]);
      await waitFor(`${service.service} to be ready again`, async () => {
        return (await request(`${service.url}/health/ready`)).status === 200;
      });
    }
  }, 180_000);
});
