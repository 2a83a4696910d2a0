import { TestBroker, request, startSystem, waitFor, type RunningSystem } from '@app/testing';
import { expectCleanLedger, orderCompleted, placeOrder } from './helpers';
import { queuesIdle } from './support';

/**
 * A consumer the broker cancels (its queue deleted, a quorum queue's leader lost) must not
 * go deaf: events are not mandatory, so with no queue they would be dropped while the
 * service still looked ready. The consumer declares its queue again and re-subscribes;
 * while it cannot, readiness is 503 and names the queue.
 */
describe('fault: the broker cancels a running consumer', () => {
  let system: RunningSystem;
  let broker: TestBroker;
  const queue = 'shipping.new-order';

  const readiness = async () => {
    const response = await request(`${system.services.shipping.url}/health/ready`);
    return { status: response.status, checks: response.body?.checks as Record<string, string> };
  };

  beforeAll(async () => {
    system = await startSystem({ label: 'fault_deaf_consumer' });
    broker = await TestBroker.connect(system.vhost.url);
  });

  afterAll(async () => {
    await broker?.close();
    await system?.teardown();
  });

  test('when Shipping’s queue is deleted under it, then Shipping declares it again, consumes, and the orders placed afterwards all complete in both styles', async () => {
    expect(await broker.consumers(queue)).toBe(1);
    await broker.deleteQueue(queue);

    await waitFor(
      `${queue} declared again and consumed`,
      async () => (await broker.consumers(queue)) === 1 || undefined,
    );
    expect((await readiness()).status).toBe(200);

    const orderIds = await Promise.all([
      placeOrder(system, { style: 'event' }),
      placeOrder(system, { style: 'event' }),
      placeOrder(system, { style: 'command' }),
    ]);
    await Promise.all(orderIds.map((id) => orderCompleted(system, id)));
    await queuesIdle(system.vhost.name);
    await expectCleanLedger(system, 'consumer cancelled by a deleted queue', orderIds.slice(0, 2));
    const shipped = await system.databases.shipping.query<{ n: string }>(
      'SELECT count(*) AS n FROM shipments WHERE order_id = ANY($1::uuid[])',
      [orderIds],
    );
    expect(Number(shipped[0]?.n)).toBe(3);
  });

  test('when the queue is replaced by one the service cannot declare, then readiness is 503 and names the queue, until the queue is fixed', async () => {
    // An operator's mistake: a classic queue of the same name, which Shipping's quorum
    // declaration is refused against (PRECONDITION_FAILED), made before Shipping retries.
    await broker.deleteQueue(queue);
    await broker.declareQueue(queue, { durable: true });

    const notReady = await waitFor('Shipping to report the queue it cannot consume', async () => {
      const answer = await readiness();
      return answer.status === 503 ? answer : undefined;
    });
    expect(notReady.checks).toMatchObject({ [`queue ${queue}`]: 'down', broker: 'up' });

    await broker.deleteQueue(queue);
    await waitFor(
      'Shipping ready again',
      async () => (await readiness()).status === 200 || undefined,
      {
        timeoutMs: 60_000,
      },
    );
    expect(await broker.consumers(queue)).toBe(1);
    const orderId = await placeOrder(system, { style: 'event' });
    await orderCompleted(system, orderId);
  });
});
