import { ServiceNames } from '@app/contracts';
import {
  TcpProxy,
  TestBroker,
  anOrderRequest,
  request,
  startSystem,
  waitFor,
  type RunningSystem,
  type Spy,
} from '@app/testing';
import { counterValue, expectCleanLedger } from './helpers';
import { allCompleted, crashLines, isRunning } from './support';

/**
 * The network to the broker goes silent: every service reaches RabbitMQ through a TCP
 * proxy that stops forwarding and answering without closing anything (no RST, no FIN), as
 * a dead link or a firewall dropping packets would. Nothing tells the services but AMQP
 * heartbeats (RABBITMQ_HEARTBEAT_SECONDS, low here): each notices its half-open connection,
 * readiness turns 503 for the broker, Order keeps accepting orders (the outbox holds their
 * messages), publishes stuck on the silent connection time out or are cut off and the relay
 * sends their rows again, and acks lost on it come back as redeliveries the inbox absorbs.
 * When the proxy forwards again the services reconnect, and orders placed before, during
 * and after the blackhole complete exactly once (the ledger with a spy on the wire).
 */
describe('fault: the broker is blackholed (no RST, no FIN) while orders flow', () => {
  const HEARTBEAT_SECONDS = 2;
  const BEFORE = 20;
  /** Half accepted just before the blackhole began, half once every service noticed it. */
  const DURING = 20;
  const AFTER = 20;
  let system: RunningSystem;
  let proxy: TcpProxy;
  let broker: TestBroker;
  let wire: Spy;

  beforeAll(async () => {
    system = await startSystem({
      label: 'fault_blackhole',
      env: { RABBITMQ_HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS) },
    });
    const target = new URL(system.vhost.url);
    proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5672) });
    await Promise.all(
      ServiceNames.map((service) =>
        system.restart(service, { RABBITMQ_URL: proxy.proxiedUrl(system.brokerUrls[service]) }),
      ),
    );
    // The spy connects directly: it sees what reached the broker, blackhole or not.
    broker = await TestBroker.connect(system.vhost.url);
    wire = await broker.spyOnEverything();
  });

  afterAll(async () => {
    proxy?.restore();
    await broker?.close();
    await system?.teardown();
    await proxy?.close();
  });

  const post = async (style: 'event' | 'command'): Promise<string> => {
    const response = await request(`${system.url('order')}/orders`, {
      body: anOrderRequest({ style }),
    });
    expect({
      status: response.status,
      body: response.status === 202 ? 'ok' : response.body,
    }).toEqual({ status: 202, body: 'ok' });
    return response.body.id as string;
  };
  const postMany = async (style: 'event' | 'command', count: number): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) ids.push(await post(style));
    return ids;
  };
  const completed = (orderIds: string[], timeoutMs: number) =>
    allCompleted(system, orderIds, timeoutMs);
  const readinessOf = async (service: (typeof ServiceNames)[number]) => {
    const response = await fetch(`${system.url(service)}/health/ready`, {
      signal: AbortSignal.timeout(3_000),
    }).catch(() => undefined);
    if (!response) return { service, status: 0, broker: 'no answer' };
    const body = (await response.json().catch(() => ({}))) as { checks?: { broker?: string } };
    return { service, status: response.status, broker: String(body.checks?.broker) };
  };

  test.each(['event', 'command'] as const)(
    'when the broker is blackholed while orders are placed before, during and after (%s style), then heartbeats notice it, readiness says broker down, the services reconnect and every order completes exactly once',
    async (style) => {
      expect(proxy.openConnections).toBeGreaterThanOrEqual(ServiceNames.length);
      const publishFailuresBefore = await counterValue(
        system,
        'order',
        'messages_published_total',
        {
          outcome: 'failed',
        },
      );
      const before = await postMany(style, BEFORE);
      const notices: Awaited<ReturnType<typeof readinessOf>>[] = [];
      let during: string[] = [];
      let forwardedBeforeRestore = 0;
      try {
        // The link goes silent the moment these are accepted: their messages are being
        // relayed, consumed and answered right then.
        const burst = await Promise.all(Array.from({ length: DURING / 2 }, () => post(style)));
        proxy.blackhole();
        during = [...burst];
        // Arrange, not assert: the link stays silent until every service has noticed
        // (heartbeats alone can tell) and the publish timeout has passed.
        const since = Date.now();
        await waitFor(
          'every service to notice the silent broker',
          async () => {
            const answers = await Promise.all(ServiceNames.map(readinessOf));
            notices.push(...answers.filter((a) => a.status !== 200));
            const noticed = ServiceNames.every((service) =>
              notices.some((n) => n.service === service && n.status === 503),
            );
            return noticed && Date.now() - since >= 12_000;
          },
          { timeoutMs: 60_000, intervalMs: 250 },
        );
        during.push(...(await postMany(style, DURING / 2)));
        forwardedBeforeRestore = proxy.stats.forwarded;
      } finally {
        proxy.restore();
      }
      await waitFor(
        'every service to be ready again',
        async () =>
          (await Promise.all(ServiceNames.map(readinessOf))).every((a) => a.status === 200),
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      const after = await postMany(style, AFTER);
      const orderIds = [...before, ...during, ...after];
      await completed(orderIds, 180_000);
      const ledger = await expectCleanLedger(system, 'broker blackholed', orderIds, {
        style,
        wire: wire.messages,
      });

      for (const service of ServiceNames) {
        const first = notices.find((n) => n.service === service && n.status === 503);
        expect({ service, broker: first?.broker }).toEqual({ service, broker: 'down' });
      }
      // The silence was a blackhole, not a cut: connections were held open, none refused.
      expect(proxy.stats.blackholed).toBeGreaterThanOrEqual(ServiceNames.length);
      expect(proxy.stats.refused).toBe(0);
      // Every service reconnected through the proxy once it forwarded again.
      expect(proxy.stats.forwarded).toBeGreaterThan(forwardedBeforeRestore);
      for (const service of Object.values(system.services)) {
        expect({ service: service.service, crashes: crashLines(service) }).toEqual({
          service: service.service,
          crashes: [],
        });
        expect(isRunning(service)).toBe(true);
      }
      const publishFailures =
        (await counterValue(system, 'order', 'messages_published_total', { outcome: 'failed' })) -
        publishFailuresBefore;
      console.log(
        `[broker blackholed] ${style} style: ${before.length} orders before, ${during.length} during, ${after.length} after; ` +
          `heartbeat ${HEARTBEAT_SECONDS} s; connections blackholed so far ${proxy.stats.blackholed}, held while silent ${proxy.stats.held}; ` +
          `first notices ${JSON.stringify(ServiceNames.map((s) => notices.find((n) => n.service === s)))}; ` +
          `Order's publishes failed (timed out or cut off) ${publishFailures}; ` +
          `${orderIds.length} orders completed, doubled ${ledger.doubled.length}, redeliveries ${JSON.stringify(ledger.redeliveries)}`,
      );
    },
    300_000,
  );
});
