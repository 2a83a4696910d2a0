import { randomUUID } from 'node:crypto';
import {
  aNewOrder,
  startServiceUnderTest,
  waitFor,
  type ServiceUnderTest,
  type Spy,
} from '@app/testing';
import { readConfig } from '../../src/config';
import { start, type RunningShippingService } from '../../src/main';

const aShipOrder = () => {
  const { orderId, items, shippingAddress } = aNewOrder();
  return { orderId, items, shippingAddress };
};

describe('shipping: ShipOrder command handler against a real broker and database', () => {
  let sut: ServiceUnderTest<RunningShippingService>;
  let replies: Spy;
  let events: Spy;

  beforeAll(async () => {
    sut = await startServiceUnderTest('shipping', 'shipping-commands', (env) =>
      start(readConfig(env)),
    );
    replies = await sut.broker.spy('order.replies', 'ShipmentCreated');
    events = await sut.broker.spy('shipping.events', '#');
  });

  afterAll(async () => {
    await sut?.teardown();
  });

  const shipmentsOf = (orderId: string) =>
    sut.db.query<{ id: string }>('SELECT id FROM shipments WHERE order_id = $1', [orderId]);
  const isFor = (orderId: string) => (m: { body: unknown }) =>
    (m.body as { orderId: string }).orderId === orderId;
  const parkedCommands = (what: string) =>
    waitFor(`${what} to be parked`, async () => {
      const messages = await sut.broker.drain('shipping.ship-order.dead');
      return messages.length > 0 ? messages : undefined;
    });

  test('when ShipOrder arrives, then one shipment is stored and ShipmentCreated is replied to order.replies, with no event', async () => {
    const command = aShipOrder();

    const messageId = await sut.broker.publishMessage('ShipOrder', command, {
      replyTo: 'order.replies',
    });

    const [reply] = await replies.waitForCount(1, isFor(command.orderId));
    const [invoice] = await shipmentsOf(command.orderId);
    expect(reply?.body).toEqual({ shipmentId: invoice?.id, orderId: command.orderId });
    expect(reply?.raw.properties).toMatchObject({
      type: 'ShipmentCreated',
      appId: 'shipping',
      correlationId: command.orderId,
    });
    expect(reply?.raw.properties.headers?.['x-causation-id']).toBe(messageId);
    expect(events.messages.filter(isFor(command.orderId))).toHaveLength(0);
  });

  test('when the same order is commanded twice, then one shipment exists and both commands are answered with it', async () => {
    const command = aShipOrder();

    await sut.broker.publishMessage('ShipOrder', command, { replyTo: 'order.replies' });
    await sut.broker.publishMessage('ShipOrder', command, { replyTo: 'order.replies' });

    const answers = await replies.waitForCount(2, isFor(command.orderId));
    const invoices = await shipmentsOf(command.orderId);
    expect(invoices).toHaveLength(1);
    expect(answers.map((m) => (m.body as { shipmentId: string }).shipmentId)).toEqual([
      invoices[0]?.id,
      invoices[0]?.id,
    ]);
  });

  test('when the same ShipOrder message is delivered twice, then it is handled and answered once', async () => {
    const command = aShipOrder();
    const messageId = randomUUID();

    await sut.broker.publishMessage('ShipOrder', command, {
      replyTo: 'order.replies',
      messageId,
    });
    await sut.broker.publishMessage('ShipOrder', command, {
      replyTo: 'order.replies',
      messageId,
    });

    await replies.waitForCount(1, isFor(command.orderId));
    await waitFor(
      'both deliveries to be handled',
      async () => (await sut.broker.depth('shipping.ship-order')) === 0,
    );
    await waitFor('the outbox to be empty', async () => {
      const [row] = await sut.db.query<{ n: string }>(
        'SELECT count(*) AS n FROM outbox_messages WHERE sent_at IS NULL',
      );
      return Number(row?.n) === 0;
    });
    expect(replies.messages.filter(isFor(command.orderId))).toHaveLength(1);
    expect(await shipmentsOf(command.orderId)).toHaveLength(1);
  });

  test.each([
    ['no replyTo', {}, 'must carry replyTo order.replies, not none'],
    ['a replyTo other than order.replies', { replyTo: 'shipping.events' }, 'not "shipping.events"'],
  ])(
    'when a ShipOrder with %s arrives, then it is parked unprocessed and the service keeps working',
    async (_case, overrides, reason) => {
      const bad = aShipOrder();
      const good = aShipOrder();

      await sut.broker.publishMessage('ShipOrder', bad, overrides);
      await sut.broker.publishMessage('ShipOrder', good, { replyTo: 'order.replies' });

      await replies.waitForCount(1, isFor(good.orderId));
      const parked = await parkedCommands('the bad command');
      expect(parked[0]?.raw.properties.headers).toMatchObject({
        'x-dead-reason': 'invalid',
        'x-dead-queue': 'shipping.ship-order',
      });
      expect(String(parked[0]?.raw.properties.headers?.['x-last-error'])).toContain(reason);
      expect(await shipmentsOf(bad.orderId)).toHaveLength(0);
    },
  );

  test.each([
    [
      'a fractional quantity',
      (c: ReturnType<typeof aShipOrder>) => ({ ...c, items: [{ ...c.items[0]!, quantity: 1.5 }] }),
    ],
    ['no items', (c: ReturnType<typeof aShipOrder>) => ({ ...c, items: [] })],
    [
      'a missing address',
      (c: ReturnType<typeof aShipOrder>) => ({ ...c, shippingAddress: undefined }),
    ],
  ])(
    'when a malformed ShipOrder with %s arrives, then it is parked in shipping.ship-order.dead and never half-processed',
    async (_case, corrupt) => {
      const bad = corrupt(aShipOrder());
      const good = aShipOrder();

      await sut.broker.publishMessage('ShipOrder', bad, { replyTo: 'order.replies' });
      await sut.broker.publishMessage('ShipOrder', good, { replyTo: 'order.replies' });

      await replies.waitForCount(1, isFor(good.orderId));
      const parked = await parkedCommands('the malformed command');
      expect(parked[0]?.raw.properties.headers?.['x-last-error']).toMatch(
        /invalid ShipOrder payload/,
      );
      expect(await shipmentsOf(bad.orderId)).toHaveLength(0);
      const inbox = await sut.db.query('SELECT 1 FROM inbox_messages WHERE message_id = $1', [
        parked[0]?.raw.properties.messageId,
      ]);
      expect(inbox).toHaveLength(0);
    },
  );
});
