import { randomBytes, randomUUID } from 'node:crypto';
import { Exchanges, JSON_CONTENT_TYPE, Messages } from '@app/contracts';
import {
  TestBroker,
  aNewOrder,
  startSystem,
  waitFor,
  type ReceivedMessage,
  type RunningSystem,
} from '@app/testing';
import { consumed, countOf, expectCleanLedger, orderCompleted, placeOrder } from './helpers';

const NEW_ORDER_QUEUES = [
  ['invoicing', 'invoicing.new-order'],
  ['shipping', 'shipping.new-order'],
  ['statistics', 'statistics.new-order'],
] as const;

interface Poison {
  name: string;
  messageId: string;
  body: Buffer;
  type: string;
  appId: string;
  /** Whether the message carries the publishing connection's user id, as senders must. */
  withUserId: boolean;
  /** What the consumer must say in `x-last-error`. */
  error: RegExp;
}

/**
 * Messages no consumer can handle, published where NewOrder travels so each of its three
 * subscribers meets them: each is parked in `<queue>.dead` at once with the reason, none
 * is retried or has an effect, and the next good order flows as if nothing happened.
 */
describe('end to end, fault: poison messages', () => {
  let system: RunningSystem;
  let broker: TestBroker;

  beforeAll(async () => {
    system = await startSystem({ label: 'e2e_fault_poison' });
    broker = await TestBroker.connect(system.vhost.url);
  });

  afterAll(async () => {
    await broker?.close();
    await system?.teardown();
  });

  const poisons: Poison[] = [
    {
      name: 'invalid JSON',
      messageId: randomUUID(),
      body: Buffer.from('{"orderId": "not closed'),
      type: 'NewOrder',
      appId: 'order',
      withUserId: true,
      error: /body is not valid JSON/,
    },
    {
      name: 'valid JSON of the wrong schema',
      messageId: randomUUID(),
      body: Buffer.from(JSON.stringify({ orderId: 42, items: 'many' })),
      type: 'NewOrder',
      appId: 'order',
      withUserId: true,
      error: /invalid NewOrder payload/,
    },
    {
      name: 'an unknown type',
      messageId: randomUUID(),
      body: Buffer.from(JSON.stringify(aNewOrder())),
      type: 'OrderTeleported',
      appId: 'order',
      withUserId: true,
      error: /unknown message type "OrderTeleported"/,
    },
    {
      name: 'a sender not allowed to send NewOrder',
      messageId: randomUUID(),
      body: Buffer.from(JSON.stringify(aNewOrder())),
      type: 'NewOrder',
      appId: 'shipping',
      withUserId: true,
      error: /NewOrder may not be sent by shipping/,
    },
    {
      name: 'no userId, so an unverifiable sender',
      messageId: randomUUID(),
      body: Buffer.from(JSON.stringify(aNewOrder())),
      type: 'NewOrder',
      appId: 'order',
      withUserId: false,
      error: /NewOrder has no userId/,
    },
  ];

  test.each(poisons)(
    'when a message with $name arrives where NewOrder travels, then every subscriber parks it in <queue>.dead as invalid with the error, without retry or effect',
    async (poison) => {
      const before = new Map<string, number>();
      for (const [service, queue] of NEW_ORDER_QUEUES) {
        before.set(queue, await consumed(system, service, { queue, outcome: 'dead-lettered' }));
      }

      await broker.publishRaw(
        Exchanges.orderEvents.name,
        Messages.NewOrder.routingKey,
        poison.body,
        {
          contentType: JSON_CONTENT_TYPE,
          persistent: true,
          type: poison.type,
          messageId: poison.messageId,
          correlationId: randomUUID(),
          appId: poison.appId,
          ...(poison.withUserId ? { userId: broker.user } : {}),
          timestamp: Math.floor(Date.now() / 1000),
          headers: {
            traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
          },
        },
      );

      for (const [service, queue] of NEW_ORDER_QUEUES) {
        const dead = `${queue}.dead`;
        await waitFor(`the message parked in ${dead}`, async () => (await broker.depth(dead)) >= 1);
        const parked = await broker.drain(dead);
        expect(parked.map((m) => [queue, m.raw.properties.messageId])).toEqual([
          [queue, poison.messageId],
        ]);
        const [message] = parked as [ReceivedMessage];
        const headers = message.raw.properties.headers ?? {};
        expect(headers['x-dead-reason']).toBe('invalid');
        expect(headers['x-dead-queue']).toBe(queue);
        expect(String(headers['x-last-error'])).toMatch(poison.error);
        expect(message.raw.content.equals(poison.body)).toBe(true);
        expect(await consumed(system, service, { queue, outcome: 'dead-lettered' })).toBe(
          (before.get(queue) ?? 0) + 1,
        );
        expect(await broker.depth(queue)).toBe(0);
      }
    },
  );

  test('when the poison messages were parked, then none was retried or had an effect, and the next good order completes once', async () => {
    const poisonOrderIds = poisons
      .map((poison) => {
        try {
          return (JSON.parse(poison.body.toString('utf8')) as { orderId?: unknown }).orderId;
        } catch {
          return undefined;
        }
      })
      .filter((id): id is string => typeof id === 'string');

    const orderId = await placeOrder(system);

    await orderCompleted(system, orderId);
    await expectCleanLedger(system, 'good order after poison messages', [orderId]);
    for (const [service, queue] of NEW_ORDER_QUEUES) {
      expect(await consumed(system, service, { queue, outcome: 'dead-lettered' })).toBe(
        poisons.length,
      );
      expect(await consumed(system, service, { queue, outcome: 'retried' })).toBe(0);
      expect(await consumed(system, service, { queue, outcome: 'processed' })).toBe(1);
      expect(await broker.depth(`${queue}.dead`)).toBe(0);
    }
    expect(poisonOrderIds).toHaveLength(3);
    expect(
      await countOf(
        system,
        'invoicing',
        'SELECT count(*) AS n FROM invoices WHERE order_id = ANY($1::uuid[])',
        [poisonOrderIds],
      ),
    ).toBe(0);
    expect(
      await countOf(
        system,
        'shipping',
        'SELECT count(*) AS n FROM shipments WHERE order_id = ANY($1::uuid[])',
        [poisonOrderIds],
      ),
    ).toBe(0);
    expect(
      await countOf(
        system,
        'statistics',
        'SELECT count(*) AS n FROM counted_orders WHERE order_id = ANY($1::uuid[])',
        [poisonOrderIds],
      ),
    ).toBe(0);
  });
});

/**
 * The command style parks poison the same way: a CreateInvoice that can never be handled
 * is parked in `invoicing.create-invoice.dead` at once with the reason, with no retry, no
 * invoice and no reply, and the next command-style order completes once.
 */
describe('end to end, fault: poison commands', () => {
  const queue = 'invoicing.create-invoice';
  let system: RunningSystem;
  let broker: TestBroker;

  beforeAll(async () => {
    system = await startSystem({ label: 'e2e_fault_poison_commands' });
    broker = await TestBroker.connect(system.vhost.url);
  });

  afterAll(async () => {
    await broker?.close();
    await system?.teardown();
  });

  const aCreateInvoice = () => {
    const order = aNewOrder();
    return {
      orderId: order.orderId,
      customerId: order.customerId,
      items: order.items,
      totalCents: order.totalCents,
      currency: order.currency,
    };
  };
  const commandPoisons: Poison[] = [
    [
      'invalid JSON',
      Buffer.from('{"orderId": "not closed'),
      'CreateInvoice',
      'order',
      true,
      /body is not valid JSON/,
    ],
    [
      'valid JSON of the wrong schema',
      Buffer.from(JSON.stringify({ orderId: 42 })),
      'CreateInvoice',
      'order',
      true,
      /invalid CreateInvoice payload/,
    ],
    [
      'an unknown type',
      Buffer.from(JSON.stringify(aCreateInvoice())),
      'InvoiceEverything',
      'order',
      true,
      /unknown message type "InvoiceEverything"/,
    ],
    [
      'a sender not allowed to send CreateInvoice',
      Buffer.from(JSON.stringify(aCreateInvoice())),
      'CreateInvoice',
      'shipping',
      true,
      /CreateInvoice may not be sent by shipping/,
    ],
    [
      'no userId, so an unverifiable sender',
      Buffer.from(JSON.stringify(aCreateInvoice())),
      'CreateInvoice',
      'order',
      false,
      /CreateInvoice has no userId/,
    ],
  ].map(([name, body, type, appId, withUserId, error]) => ({
    name,
    messageId: randomUUID(),
    body,
    type,
    appId,
    withUserId,
    error,
  })) as Poison[];

  test.each(commandPoisons)(
    'when a command with $name arrives where CreateInvoice travels, then Invoicing parks it as invalid with the error, without retry, effect or reply',
    async (poison) => {
      await broker.publishRaw(
        Exchanges.invoicingCommands.name,
        Messages.CreateInvoice.routingKey,
        poison.body,
        {
          contentType: JSON_CONTENT_TYPE,
          persistent: true,
          type: poison.type,
          messageId: poison.messageId,
          correlationId: randomUUID(),
          appId: poison.appId,
          replyTo: Exchanges.orderReplies.name,
          ...(poison.withUserId ? { userId: broker.user } : {}),
          timestamp: Math.floor(Date.now() / 1000),
        },
      );
      const dead = `${queue}.dead`;
      await waitFor(`the command parked in ${dead}`, async () => (await broker.depth(dead)) >= 1);
      const [parked] = (await broker.drain(dead)) as [ReceivedMessage];
      expect(parked.raw.properties.messageId).toBe(poison.messageId);
      const headers = parked.raw.properties.headers ?? {};
      expect(headers['x-dead-reason']).toBe('invalid');
      expect(String(headers['x-last-error'])).toMatch(poison.error);
    },
  );

  test('when the poison commands were parked, then none was retried or answered, and the next command-style order completes once', async () => {
    const orderId = await placeOrder(system, { style: 'command' });
    await orderCompleted(system, orderId);
    await expectCleanLedger(system, 'good order after poison commands', [orderId], {
      style: 'command',
    });
    expect(await consumed(system, 'invoicing', { queue, outcome: 'dead-lettered' })).toBe(
      commandPoisons.length,
    );
    expect(await consumed(system, 'invoicing', { queue, outcome: 'retried' })).toBe(0);
    expect(await consumed(system, 'invoicing', { queue, outcome: 'processed' })).toBe(1);
    expect(
      await countOf(system, 'invoicing', 'SELECT count(*) AS n FROM outbox_messages', []),
    ).toBe(1);
  });
});
