import { randomUUID } from 'node:crypto';
import { Trails, type SeenMessage } from '../../src/trails';

const seen = (overrides: Partial<SeenMessage> = {}): SeenMessage => ({
  at: Date.now(),
  type: 'NewOrder',
  from: 'order',
  exchange: 'order.events',
  routingKey: 'order.new',
  messageId: randomUUID(),
  correlationId: randomUUID(),
  ...overrides,
});

describe('the trails the observer keeps', () => {
  test('when a flood of 50 000 messages of 10 000 orders arrives, then memory stays bounded: the newest orders, a capped trail each', () => {
    const trails = new Trails(100, 5);
    const orders = Array.from({ length: 10_000 }, () => randomUUID());

    for (let i = 0; i < 50_000; i += 1) trails.record(seen({ correlationId: orders[i % 10_000] }));

    expect(trails.seenTotal).toBe(50_000);
    expect(trails.size).toBe(100);
    expect(trails.trailOf(orders[0]!)).toEqual([]);
    // Each order came back only after 9 999 others had pushed it out: its trail starts afresh.
    expect(trails.trailOf(orders[9_999]!)).toHaveLength(1);
  });

  test('when one order gets more messages than its cap, then the first ones are kept and the rest dropped', () => {
    const trails = new Trails(10, 3);
    const correlationId = randomUUID();

    for (let i = 0; i < 10; i += 1) trails.record(seen({ correlationId, at: i }));

    expect(trails.trailOf(correlationId).map((step) => step.at)).toEqual([0, 1, 2]);
  });

  test('when a reply names a command the observer never saw, then the trail shows the command, inferred, before the reply', () => {
    const trails = new Trails();
    const orderId = randomUUID();
    const commandId = randomUUID();

    trails.record(
      seen({
        correlationId: orderId,
        type: 'InvoiceCreated',
        from: 'invoicing',
        exchange: 'order.replies',
        routingKey: 'InvoiceCreated',
        causationId: commandId,
        at: 1_000,
      }),
    );

    const trail = trails.trailOf(orderId);
    expect(trail.map((step) => [step.type, step.inferred])).toEqual([
      ['CreateInvoice', true],
      ['InvoiceCreated', false],
    ]);
    expect(trail[0]).toMatchObject({
      messageId: commandId,
      exchange: 'invoicing.commands',
      to: [{ queue: 'invoicing.create-invoice', consumer: 'invoicing' }],
    });
    expect(trail[1]?.to).toEqual([{ queue: 'order.command-replies', consumer: 'order' }]);
  });
});
