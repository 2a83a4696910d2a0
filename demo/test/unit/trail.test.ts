import {
  buildTrail,
  formatTrail,
  handledFromLogs,
  type HandledMessage,
  type PublishedMessage,
} from '../../src/trail';

const ORDER = 'order-1';
const published = (overrides: Partial<PublishedMessage>): PublishedMessage => ({
  at: 0,
  exchange: 'order.events',
  routingKey: 'order.new',
  type: 'NewOrder',
  from: 'order',
  messageId: 'm1',
  correlationId: ORDER,
  ...overrides,
});
const handled = (overrides: Partial<HandledMessage>): HandledMessage => ({
  at: 0,
  service: 'invoicing',
  queue: 'invoicing.new-order',
  type: 'NewOrder',
  messageId: 'm1',
  correlationId: ORDER,
  ...overrides,
});

describe('message trail', () => {
  test('when messages arrive out of order, then the trail lists them by publish time with their deliveries by time', () => {
    const steps = buildTrail(
      ORDER,
      [
        published({
          at: 30,
          messageId: 'm2',
          type: 'InvoiceIssued',
          exchange: 'invoicing.events',
          routingKey: 'invoice.issued',
          from: 'invoicing',
          causationId: 'm1',
        }),
        published({ at: 10 }),
      ],
      [
        handled({ at: 25, service: 'shipping', queue: 'shipping.new-order' }),
        handled({ at: 20 }),
        handled({
          at: 40,
          messageId: 'm2',
          type: 'InvoiceIssued',
          service: 'order',
          queue: 'order.invoice-issued',
        }),
      ],
    );
    expect(steps.map((step) => [step.step, step.type, step.causedBy])).toEqual([
      [1, 'NewOrder', undefined],
      [2, 'InvoiceIssued', 1],
    ]);
    expect(steps[0]?.deliveries.map((d) => d.queue)).toEqual([
      'invoicing.new-order',
      'shipping.new-order',
    ]);
  });

  test('when the spy heard a message after a service handled it, then the message is timed at its first delivery', () => {
    const steps = buildTrail(
      ORDER,
      [
        published({ at: 30 }),
        published({ at: 25, messageId: 'm2', type: 'AuthorizationAccepted', causationId: 'm1' }),
      ],
      [handled({ at: 20 }), handled({ at: 35, service: 'shipping', queue: 'shipping.new-order' })],
    );
    expect(steps.map((step) => [step.messageId, step.at])).toEqual([
      ['m1', 20],
      ['m2', 25],
    ]);
  });

  test('when other orders’ messages are around, then only this correlation id’s are in the trail', () => {
    const steps = buildTrail(
      ORDER,
      [published({}), published({ messageId: 'other', correlationId: 'order-2' })],
      [handled({}), handled({ messageId: 'other', correlationId: 'order-2' })],
    );
    expect(steps.map((step) => step.messageId)).toEqual(['m1']);
  });

  test('when the spy missed a message a service handled, then it still appears with its exchange unknown', () => {
    const steps = buildTrail(ORDER, [], [handled({ at: 5 })]);
    expect(steps).toEqual([
      expect.objectContaining({
        exchange: '?',
        from: '?',
        type: 'NewOrder',
        deliveries: [expect.anything()],
      }),
    ]);
  });

  test('when a trail is formatted, then each message and each delivery is a line with its time', () => {
    const lines = formatTrail(
      buildTrail(ORDER, [published({ at: 1_010 })], [handled({ at: 1_042 })]),
      1_000,
    );
    expect(lines).toEqual([
      '  +10 ms   1. order -> order.events [order.new]  NewOrder (msg m1)',
      '  +42 ms      handled from invoicing.new-order by invoicing',
    ]);
  });

  test('when logs are read, then only info lines with queue, type, message and correlation ids count', () => {
    const found = handledFromLogs('invoicing', [
      {
        level: 'info',
        time: '2024-05-01T12:00:00.123Z',
        queue: 'q',
        type: 'NewOrder',
        messageId: 'm',
        correlationId: 'c',
        msg: 'invoice issued',
      },
      {
        level: 'warn',
        time: '2024-05-01T12:00:00.200Z',
        queue: 'q',
        type: 'NewOrder',
        messageId: 'm',
        correlationId: 'c',
        msg: 'handler failed; retrying later',
      },
      { level: 'info', time: '2024-05-01T12:00:00.300Z', msg: 'order placed', correlationId: 'c' },
    ]);
    expect(found).toEqual([
      {
        at: Date.parse('2024-05-01T12:00:00.123Z'),
        service: 'invoicing',
        queue: 'q',
        type: 'NewOrder',
        messageId: 'm',
        correlationId: 'c',
      },
    ]);
  });
});
