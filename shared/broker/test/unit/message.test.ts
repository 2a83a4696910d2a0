import { randomUUID } from 'node:crypto';
import { ZodError } from 'zod';
import type { NewOrder } from '@app/contracts';
import {
  buildMessage,
  childTraceparent,
  toPublishOptions,
  type OutgoingProperties,
} from '../../src/message';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

const aNewOrder = (overrides: Partial<NewOrder> = {}): NewOrder => ({
  orderId: randomUUID(),
  customerId: 'customer-1',
  items: [{ sku: 'SKU-BOOK-1', quantity: 2, unitPriceCents: 1_250 }],
  totalCents: 2_500,
  currency: 'EUR',
  shippingAddress: {
    name: 'Ada Lovelace',
    street: '12 St James Square',
    city: 'London',
    postalCode: 'SW1Y 4JH',
    country: 'GB',
  },
  placedAt: '2025-01-31T12:00:00.000Z',
  ...overrides,
});

describe('buildMessage', () => {
  test('when a valid payload is given, then the message carries the contract routing and the envelope properties', () => {
    const order = aNewOrder();
    const before = Date.now();

    const message = buildMessage('NewOrder', order, 'order', { correlationId: order.orderId });

    expect(message).toMatchObject({
      type: 'NewOrder',
      exchange: 'order.events',
      routingKey: 'order.new',
      payload: order,
    });
    expect(message.messageId).toMatch(UUID);
    expect(message.properties).toMatchObject({
      messageId: message.messageId,
      type: 'NewOrder',
      correlationId: order.orderId,
      appId: 'order',
    });
    expect(message.properties.timestamp).toBeGreaterThanOrEqual(before);
    expect(message.properties.traceparent).toMatch(TRACEPARENT);
    expect(message.properties).not.toHaveProperty('causationId');
    expect(message.properties).not.toHaveProperty('replyTo');
  });

  test('when two messages are built, then each has its own message id', () => {
    const order = aNewOrder();

    const first = buildMessage('NewOrder', order, 'order', { correlationId: order.orderId });
    const second = buildMessage('NewOrder', order, 'order', { correlationId: order.orderId });

    expect(first.messageId).not.toBe(second.messageId);
  });

  test('when built in reply to a cause, then it carries the causation id, continues its trace and keeps replyTo', () => {
    const causationId = randomUUID();
    const parent = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`;
    const orderId = randomUUID();

    const message = buildMessage(
      'ShipOrder',
      { orderId, items: aNewOrder().items, shippingAddress: aNewOrder().shippingAddress },
      'order',
      {
        correlationId: orderId,
        causationId,
        traceparent: parent,
        replyTo: 'order.replies',
      },
    );

    expect(message).toMatchObject({ exchange: 'shipping.commands', routingKey: 'ShipOrder' });
    expect(message.properties).toMatchObject({
      causationId,
      replyTo: 'order.replies',
      correlationId: orderId,
    });
    expect(TRACEPARENT.exec(message.properties.traceparent)?.[1]).toBe('1'.repeat(32));
  });

  test.each([
    ['negative cents', { totalCents: -1 }],
    ['fractional cents', { totalCents: 10.5 }],
    ['no items', { items: [] }],
    ['an order id that is not a uuid', { orderId: 'order-42' }],
    ['a lower-case currency', { currency: 'eur' }],
  ])('when the payload has %s, then building throws and nothing is built', (_case, overrides) => {
    const payload = aNewOrder(overrides as Partial<NewOrder>);

    expect(() =>
      buildMessage('NewOrder', payload, 'order', { correlationId: randomUUID() }),
    ).toThrow(ZodError);
  });

  test('when the payload has fields the contract does not know, then they are not sent', () => {
    const order = aNewOrder();

    const message = buildMessage(
      'NewOrder',
      { ...order, internalNote: 'secret' } as NewOrder,
      'order',
      {
        correlationId: order.orderId,
      },
    );

    expect(message.payload).toEqual(order);
  });
});

describe('childTraceparent', () => {
  test('when there is a parent, then the trace id and flags are kept and the span id is new', () => {
    const parent = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-00`;

    const child = childTraceparent(parent);

    const [, traceId, spanId, flags] = TRACEPARENT.exec(child) ?? [];
    expect(traceId).toBe('a'.repeat(32));
    expect(spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(spanId).not.toBe('b'.repeat(16));
    expect(flags).toBe('00');
  });

  test('when there is no parent, then a new valid, sampled trace starts', () => {
    const first = childTraceparent();
    const second = childTraceparent(undefined);

    expect(first).toMatch(TRACEPARENT);
    expect(first.endsWith('-01')).toBe(true);
    expect(TRACEPARENT.exec(first)?.[1]).not.toBe(TRACEPARENT.exec(second)?.[1]);
  });

  test.each([
    'garbage',
    `01-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
    `00-${'A'.repeat(32)}-${'b'.repeat(16)}-01`,
  ])('when the parent %p is malformed, then a new trace starts instead of copying it', (parent) => {
    const child = childTraceparent(parent);

    expect(child).toMatch(TRACEPARENT);
    expect(child).not.toContain('a'.repeat(32));
    expect(child).not.toContain('A'.repeat(32));
  });
});

describe('toPublishOptions', () => {
  const properties: OutgoingProperties = {
    messageId: randomUUID(),
    type: 'NewOrder',
    correlationId: randomUUID(),
    appId: 'order',
    timestamp: 1_738_324_800_123,
    traceparent: `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01`,
  };

  test('when a message is published, then it is persistent JSON with the contract properties and headers', () => {
    const options = toPublishOptions(properties);

    expect(options).toEqual({
      persistent: true,
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      messageId: properties.messageId,
      type: 'NewOrder',
      correlationId: properties.correlationId,
      appId: 'order',
      timestamp: 1_738_324_800,
      headers: { traceparent: properties.traceparent, 'x-timestamp-ms': 1_738_324_800_123 },
    });
  });

  test('when a user id is given, then it is set for the broker to check; without one it is absent', () => {
    expect(toPublishOptions(properties, 'order').userId).toBe('order');
    expect(toPublishOptions(properties)).not.toHaveProperty('userId');
  });

  test('when the message has a cause and a reply address, then they travel as x-causation-id and replyTo', () => {
    const causationId = randomUUID();

    const options = toPublishOptions({ ...properties, causationId, replyTo: 'order.replies' });

    expect(options.replyTo).toBe('order.replies');
    expect(options.headers).toMatchObject({
      'x-causation-id': causationId,
      traceparent: properties.traceparent,
    });
  });
});
