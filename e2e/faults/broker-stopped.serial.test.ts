import { ServiceNames, type ServiceName } from '@app/contracts';
import { request, startSystem, waitFor, type RunningSystem } from '@app/testing';
import { startBrokerApp, stopBrokerApp } from './broker-app';
import {
  consumedByOutcome,
  crashLines,
  errorLines,
  isRunning,
  residentBytes,
  serviceConnections,
  settledLedger,
  streamOrders,
} from './support';

/**
 * The broker is stopped for a minute (`rabbitmqctl stop_app`) while orders keep coming,
 * then started again. This stops the broker every test file shares, so it lives in the
 * `faults-serial` jest project, which runs alone and after the others (see jest.config.js).
 */
describe('fault: the broker is stopped for a minute under load', () => {
  const OUTAGE_MS = 60_000;
  const BEFORE = 20;
  const DURING = 120;
  const AFTER = 20;
  /** Leak guard, not a timing: a service's memory may not grow by more than this. */
  const RSS_GROWTH_LIMIT = 150 * 1024 * 1024;
  let system: RunningSystem;

  beforeAll(async () => {
    await startBrokerApp();
    system = await startSystem({ label: 'fault_broker_stopped' });
  });

  afterAll(async () => {
    // Whatever happened, the shared broker is left running.
    await startBrokerApp();
    await system?.teardown();
  });

  const rssOfAll = async (): Promise<Record<string, number>> =>
    Object.fromEntries(
      await Promise.all(
        Object.values(system.services).map(
          async (s) => [s.service, await residentBytes(s.pid!)] as const,
        ),
      ),
    );
  const mb = (bytes: number): number => Math.round(bytes / 1024 / 1024);

  test('when the broker is stopped for a minute, then orders are still accepted, readiness names the broker, no service dies or leaks, and every order completes once after it is back', async () => {
    const { order } = system.services;
    // The broker rabbitmqctl controls is the one the services use: it lists their connections.
    expect(
      (await serviceConnections(system.vhost.name)).map((c) => c.connectionName).sort(),
    ).toEqual([...ServiceNames].sort());
    const before = await streamOrders(order.url, BEFORE).done;
    await settledLedger(
      system,
      before.map((r) => r.id!),
      60_000,
    );
    const rssBefore = await rssOfAll();
    const rssPeak = { ...rssBefore };

    const during: { status: number; id?: string; body?: unknown }[] = [];
    const readiness: { service: ServiceName; status: number; broker: string }[] = [];
    const exited = new Set<string>();
    let stoppedAt = 0;
    let outageMs = 0;
    try {
      await stopBrokerApp();
      stoppedAt = Date.now();
      // Arrange, not assert: a minute without a broker. Each round places the orders due so
      // far (DURING spread evenly over the minute), probes readiness and samples memory.
      await waitFor(
        'the broker outage to last a minute',
        async () => {
          const elapsed = Date.now() - stoppedAt;
          const due = Math.min(DURING, Math.ceil((DURING * elapsed) / OUTAGE_MS)) - during.length;
          if (due > 0)
            during.push(...(await streamOrders(order.url, due, { concurrency: 5 }).done));
          for (const service of ServiceNames) {
            const running = system.services[service];
            if (!isRunning(running)) {
              exited.add(service);
              continue;
            }
            const response = await request(`${running.url}/health/ready`);
            readiness.push({
              service,
              status: response.status,
              broker: String(response.body?.checks?.broker),
            });
            const rss = await residentBytes(running.pid!);
            rssPeak[service] = Math.max(rssPeak[service] ?? 0, rss);
          }
          return elapsed >= OUTAGE_MS && during.length >= DURING;
        },
        { timeoutMs: OUTAGE_MS + 60_000, intervalMs: 250 },
      );
    } finally {
      await startBrokerApp();
      outageMs = Date.now() - stoppedAt;
    }
    const rssDuring = { ...rssPeak };

    // During the outage: every order accepted (the outbox holds them), readiness said the
    // broker was down, and no process exited.
    if (during.some((r) => r.status !== 202)) console.log(errorLines(order).join('\n'));
    expect(exited).toEqual(new Set());
    expect(during).toHaveLength(DURING);
    expect(during.filter((r) => r.status !== 202)).toEqual([]);
    for (const service of ServiceNames) {
      const answers = readiness.filter((r) => r.service === service);
      const down = answers.filter((r) => r.status === 503 && r.broker === 'down');
      expect({ service, saidBrokerDown: down.length > 0 }).toEqual({
        service,
        saidBrokerDown: true,
      });
    }

    // Back: the services reconnect by themselves, and everything flows.
    await waitFor(
      'every service to reconnect to the broker',
      async () => {
        const names = new Set(
          (await serviceConnections(system.vhost.name)).map((c) => c.connectionName),
        );
        return ServiceNames.every((service) => names.has(service));
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    // New orders are accepted while the backlog drains, and everything completes once.
    const after = await streamOrders(order.url, AFTER).done;
    if (after.some((r) => r.status !== 202)) console.log(errorLines(order).join('\n'));
    expect(after.filter((r) => r.status !== 202)).toEqual([]);
    const orderIds = [...before, ...during, ...after].map((r) => r.id!);
    expect(new Set(orderIds).size).toBe(BEFORE + DURING + AFTER);
    const ledger = await settledLedger(system, orderIds, 120_000);
    const outcomes = await consumedByOutcome(system.services);
    const rssAfter = await rssOfAll();
    const memory = Object.fromEntries(
      ServiceNames.map((s) => [
        s,
        `${mb(rssBefore[s]!)}/${mb(rssDuring[s]!)}/${mb(rssAfter[s]!)} MB`,
      ]),
    );
    console.log(
      `broker app stopped for ${Math.round(outageMs / 1000)} s (stop_app returned to start_app returned) with ${BEFORE}+${DURING}+${AFTER} orders: redeliveries absorbed by the inbox ${JSON.stringify(ledger.redeliveries)}; deliveries by outcome ${JSON.stringify(outcomes)}; RSS before/peak during/after ${JSON.stringify(memory)}`,
    );
    expect(ledger).toMatchObject({
      orders: BEFORE + DURING + AFTER,
      completed: BEFORE + DURING + AFTER,
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
    // Memory stays bounded: a leak guard with a generous margin, not a measurement.
    for (const service of ServiceNames) {
      expect(rssDuring[service]!).toBeLessThan(rssBefore[service]! + RSS_GROWTH_LIMIT);
      expect(rssAfter[service]!).toBeLessThan(rssBefore[service]! + RSS_GROWTH_LIMIT);
    }
    for (const service of Object.values(system.services)) {
      expect({ service: service.service, running: isRunning(service) }).toEqual({
        service: service.service,
        running: true,
      });
      expect(crashLines(service)).toEqual([]);
      await waitFor(`${service.service} to be ready again`, async () => {
        return (await request(`${service.url}/health/ready`)).status === 200;
      });
    }
  }, 300_000);
});
