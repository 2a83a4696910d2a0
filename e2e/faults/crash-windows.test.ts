import amqplib from 'amqplib';
import type { MessagingStyle, ServiceName } from '@app/contracts';
import { listDeadLetters, replayDeadLetters } from '@app/operations';
import {
  TestBroker,
  request,
  startSystem,
  waitFor,
  type RunningSystem,
  type ServiceProcess,
  type Spy,
} from '@app/testing';
import { consumed, expectCleanLedger, orderCompleted, placeOrder } from './helpers';
import { isRunning } from './support';

const STYLES: MessagingStyle[] = ['event', 'command'];

/** The queue on which Invoicing hears of a new order in each style. */
const INVOICING = { event: 'invoicing.new-order', command: 'invoicing.create-invoice' } as const;

/** What Shipping hears of a new order in each style. */
const SHIPPING = {
  event: { type: 'NewOrder', queue: 'shipping.new-order' },
  command: { type: 'ShipOrder', queue: 'shipping.ship-order' },
} as const;

/**
 * The windows the outbox and the inbox exist for, each hit on purpose with a fault switch
 * that SIGKILLs the process at that very point (shared/broker/src/faults.ts), in both
 * styles: after a handler committed and before its ack; the relay after some confirms of
 * a batch and before marking any row sent; a message that kills its consumer every time;
 * one of two competing instances killed with deliveries in hand.
 */
describe('fault: a process killed inside the windows the outbox and inbox guard', () => {
  let system: RunningSystem;
  let broker: TestBroker;
  let wire: Spy;

  beforeAll(async () => {
    system = await startSystem({ label: 'fault_crash_windows' });
    broker = await TestBroker.connect(system.vhost.url);
    wire = await broker.spyOnEverything();
  });

  afterAll(async () => {
    await broker?.close();
    await system?.teardown();
  });

  /**
   * Starts `service` again with `env`; false when it exited before it reported ready (a
   * fault switch killed it first), true when it is up.
   */
  const startedOrCrashed = async (
    service: ServiceName,
    env: Record<string, string>,
  ): Promise<boolean> => {
    try {
      await system.restart(service, env);
      return true;
    } catch (err) {
      if (err instanceof Error && /exited with/.test(err.message)) return false;
      throw err;
    }
  };

  /** Waits until the (only) instance of `service` killed itself, then starts it again. */
  const afterItsCrash = async (
    service: ServiceName,
    env: Record<string, string> = {},
  ): Promise<ServiceProcess> => {
    const [crashing] = system.instances(service);
    await waitFor(`${service} to have killed itself`, () => !isRunning(crashing!) || undefined);
    return system.restart(service, env);
  };

  test.each(STYLES)(
    'when Shipping is killed after its handler committed and before the ack (%s style), then the redelivery is absorbed by the inbox and the order completes once',
    async (style) => {
      const { type, queue } = SHIPPING[style];
      await system.restart('shipping', {
        FAULT_CRASH_BEFORE_ACK: 'true',
        FAULT_MESSAGE_TYPES: type,
      });
      const orderId = await placeOrder(system, { style });
      await afterItsCrash('shipping');

      // The effect was committed before the crash: the shipment exists, the message is back.
      const [shipment] = await system.databases.shipping.query<{ n: string }>(
        'SELECT count(*) AS n FROM shipments WHERE order_id = $1::uuid',
        [orderId],
      );
      expect(Number(shipment?.n)).toBe(1);
      await orderCompleted(system, orderId);
      await expectCleanLedger(system, 'Shipping killed between commit and ack', [orderId], {
        style,
        wire: wire.messages,
      });
      // The restarted Shipping met the message again and its inbox recognised it.
      expect(await consumed(system, 'shipping', { queue, type, outcome: 'duplicate' })).toBe(1);
    },
  );

  test.each(STYLES)(
    'when Invoicing is killed in the middle of acking a batch (%s style), then the rest of the batch comes back, the inbox absorbs it, and every order completes once',
    async (style) => {
      const queue = INVOICING[style];
      const type = style === 'event' ? 'NewOrder' : 'CreateInvoice';
      // A slow first delivery makes the next ones pile up and go as one batch; that batch
      // commits, three of its acks go out, then the process dies.
      await system.restart('invoicing', { PREFETCH: '16' });
      await system.setFaults('invoicing', {
        handlerDelayMs: 300,
        crashMidBatchAcks: 3,
        messageTypes: [type],
      });
      const orderIds = await Promise.all(
        Array.from({ length: 24 }, () => placeOrder(system, { style })),
      );
      await afterItsCrash('invoicing', { PREFETCH: '16' });

      await Promise.all(orderIds.map((id) => orderCompleted(system, id)));
      await expectCleanLedger(system, 'Invoicing killed while acking a batch', orderIds, {
        style,
        wire: wire.messages,
      });
      // The batch's unacked rest was committed before the crash: after it, each came back,
      // its invoice's insert wrote nothing, and its inbox row named it a duplicate.
      expect(
        await consumed(system, 'invoicing', { queue, type, outcome: 'duplicate' }),
      ).toBeGreaterThanOrEqual(1);
      await system.restart('invoicing');
    },
  );

  test('when Order’s relay is killed after 10 of the confirms of a 30-row batch, before marking any row sent, then every row is published again and every order completes once in both styles', async () => {
    // A short lease, so the rows the dying relay claimed are claimed again soon.
    await system.restart('order', { FAULT_RELAY_PAUSED: 'true', OUTBOX_LEASE_MS: '2000' });
    const placed = { event: [] as string[], command: [] as string[] };
    for (let i = 0; i < 30; i += 1) {
      const style = STYLES[i % 2]!;
      placed[style].push(await placeOrder(system, { style }));
    }
    const all = [...placed.event, ...placed.command];
    await system.setFaults('order', { crashAfterConfirms: 10 });
    await afterItsCrash('order');

    await Promise.all(all.map((id) => orderCompleted(system, id)));
    for (const style of STYLES) {
      await expectCleanLedger(system, 'relay killed inside a batch', placed[style], {
        style,
        wire: wire.messages,
      });
    }
    const rows = await system.databases.order.query<{ attempts: number; n: string }>(
      `SELECT attempts, count(*) AS n FROM outbox_messages
        WHERE payload->>'orderId' = ANY($1::text[]) AND type IN ('NewOrder', 'AuthorizePayment')
        GROUP BY attempts`,
      [all],
    );
    // Every row of the batch was claimed by the relay that died and once more after it.
    expect(rows).toEqual([{ attempts: 2, n: '30' }]);
    // At least the ten confirmed messages were delivered twice under one message id each.
    const againBy = await Promise.all(
      (['invoicing', 'shipping', 'statistics', 'payment'] as const).map((service) =>
        consumed(system, service, { outcome: 'duplicate' }),
      ),
    );
    expect(againBy.reduce((sum, n) => sum + n, 0)).toBeGreaterThanOrEqual(10);
  });

  test('when a ShipOrder kills Shipping every time it is handled, then the broker parks it after its delivery limit, other orders keep flowing, and a replay completes it', async () => {
    // The pause lets each restarted Shipping report ready before the ShipOrder kills it.
    const crashing = {
      FAULT_CRASH_IN_HANDLER: 'true',
      FAULT_MESSAGE_TYPES: 'ShipOrder',
      FAULT_HANDLER_DELAY_MS: '1500',
    };
    await system.restart('shipping', crashing);
    const poisoned = await placeOrder(system, { style: 'command' });
    const deadQueue = `${SHIPPING.command.queue}.dead`;

    let crashes = 0;
    const others: string[] = [];
    while ((await broker.depth(deadQueue)) === 0) {
      const [instance] = system.instances('shipping');
      const crashed = await waitFor(
        'Shipping to crash on the ShipOrder, or the broker to park it',
        async () =>
          !isRunning(instance!) || (await broker.depth(deadQueue)) > 0 ? true : undefined,
        { timeoutMs: 30_000 },
      );
      if (crashed && !isRunning(instance!)) crashes += 1;
      if (crashes > 20) throw new Error('the broker never parked the ShipOrder');
      // On a slow machine the redelivered ShipOrder may kill the new Shipping before it
      // reported ready: that is one more crash, not a failed start.
      while (!(await startedOrCrashed('shipping', crashing))) crashes += 1;
      // Between the crashes, event-style orders still reach Shipping and complete.
      if (others.length < 3) others.push(await placeOrder(system, { style: 'event' }));
    }
    expect(crashes).toBeGreaterThanOrEqual(10);
    const [parked] = await withChannel((channel) =>
      listDeadLetters(channel, SHIPPING.command.queue),
    );
    expect(parked).toMatchObject({ type: 'ShipOrder', reason: 'delivery_limit' });
    await Promise.all(others.map((id) => orderCompleted(system, id)));
    const order = await request(`${system.services.order.url}/orders/${poisoned}`);
    expect(order.body.status).not.toBe('COMPLETED');

    // Fixed (the switch off), the operator replays it.
    await system.restart('shipping');
    expect(
      await withChannel((channel) =>
        replayDeadLetters(channel, SHIPPING.command.queue, { userId: broker.user }),
      ),
    ).toBe(1);
    await orderCompleted(system, poisoned);
    await expectCleanLedger(system, 'a ShipOrder that killed Shipping', [poisoned], {
      style: 'command',
      wire: wire.messages,
    });
    await expectCleanLedger(system, 'orders beside a poison message', others, {
      wire: wire.messages,
    });
  });

  test.each(STYLES)(
    'when one of two competing Invoicing instances is killed with deliveries in hand (%s style), then the other takes them over and every order completes once',
    async (style) => {
      await system.stop('invoicing');
      // The victim's handlers take ten minutes, so it certainly holds the deliveries the
      // broker gave it when it dies; the survivor's take 300 ms.
      const [victim] = await system.start('invoicing', {
        env: { FAULT_HANDLER_DELAY_MS: '600000' },
      });
      const [survivor] = await system.start('invoicing', {
        env: { FAULT_HANDLER_DELAY_MS: '300' },
      });
      const orderIds = await Promise.all(
        Array.from({ length: 20 }, () => placeOrder(system, { style })),
      );
      const queue = INVOICING[style];
      await waitFor('every delivery handed out and the survivor handling', async () => {
        const metrics = await fetch(`${survivor!.url}/metrics`).then((r) => r.text());
        return (
          ((await broker.depth(queue)) === 0 &&
            /messages_consumed_total\{[^}]*outcome="processed"/.test(metrics)) ||
          undefined
        );
      });
      const invoiced = await system.databases.invoicing.query<{ n: string }>(
        'SELECT count(*) AS n FROM invoices WHERE order_id = ANY($1::uuid[])',
        [orderIds],
      );
      // The victim holds some of the orders: they cannot have an invoice yet.
      expect(Number(invoiced[0]?.n)).toBeLessThan(orderIds.length);
      await victim!.kill();
      await Promise.all(orderIds.map((id) => orderCompleted(system, id)));
      // The survivor got the deliveries the victim held unacknowledged.
      const metrics = await fetch(`${survivor!.url}/metrics`).then((r) => r.text());
      expect(metrics).toMatch(/^messages_redelivered_total\{[^}]*\} [1-9]/m);
      await expectCleanLedger(system, 'one of two instances killed', orderIds, {
        style,
        wire: wire.messages,
      });
      await system.restart('invoicing');
    },
  );

  const withChannel = async <T>(work: (channel: amqplib.ConfirmChannel) => Promise<T>) => {
    const connection = await amqplib.connect(system.vhost.url);
    try {
      return await work(await connection.createConfirmChannel());
    } finally {
      await connection.close();
    }
  };
});
