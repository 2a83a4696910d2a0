import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { Exchanges, Messages, isMessageType, type MessageType } from '../../src';

const item = { sku: 'SKU-BOOK-1', quantity: 2, unitPriceCents: 1_250 };
const address = {
  name: 'Ada Lovelace',
  street: '12 St James Square',
  city: 'London',
  postalCode: 'SW1Y 4JH',
  country: 'GB',
};

/** One valid payload of every message type of the contract. */
const examples: { [T in MessageType]: () => Record<string, unknown> } = {
  NewOrder: () => ({
    orderId: randomUUID(),
    customerId: 'customer-1',
    items: [item],
    totalCents: 2_500,
    currency: 'EUR',
    shippingAddress: address,
    placedAt: '2025-01-31T12:00:00.000Z',
  }),
  CreateInvoice: () => ({
    orderId: randomUUID(),
    customerId: 'customer-1',
    items: [item],
    totalCents: 2_500,
    currency: 'EUR',
  }),
  ShipOrder: () => ({ orderId: randomUUID(), items: [item], shippingAddress: address }),
  InvoiceIssued: () => ({
    invoiceId: randomUUID(),
    orderId: randomUUID(),
    totalCents: 2_500,
    currency: 'EUR',
    issuedAt: '2025-01-31T12:00:01.000Z',
  }),
  ShipmentPrepared: () => ({
    shipmentId: randomUUID(),
    orderId: randomUUID(),
    preparedAt: '2025-01-31T12:00:02Z',
  }),
  InvoiceCreated: () => ({ invoiceId: randomUUID(), orderId: randomUUID() }),
  ShipmentCreated: () => ({ shipmentId: randomUUID(), orderId: randomUUID() }),
  OrderCancelled: () => ({
    orderId: randomUUID(),
    reason: 'card_declined',
    cancelledAt: '2025-01-31T12:00:03.000Z',
  }),
  AuthorizePayment: () => ({
    orderId: randomUUID(),
    customerId: 'customer-1',
    amountCents: 2_500,
    currency: 'EUR',
    cardToken: 'tok_visa',
  }),
  PaymentAuthorized: () => ({
    paymentId: randomUUID(),
    orderId: randomUUID(),
    amountCents: 2_500,
    currency: 'EUR',
    authorizedAt: '2025-01-31T12:00:01.000Z',
  }),
  PaymentDeclined: () => ({
    paymentId: randomUUID(),
    orderId: randomUUID(),
    reason: 'insufficient_funds',
    declinedAt: '2025-01-31T12:00:01.000Z',
  }),
  AuthorizationAccepted: () => ({
    paymentId: randomUUID(),
    orderId: randomUUID(),
    amountCents: 2_500,
    currency: 'EUR',
    authorizedAt: '2025-01-31T12:00:01.000Z',
  }),
  AuthorizationDeclined: () => ({
    paymentId: randomUUID(),
    orderId: randomUUID(),
    reason: 'amount_over_limit',
    declinedAt: '2025-01-31T12:00:01.000Z',
  }),
};

const types = Object.keys(Messages) as MessageType[];
const schemaOf = (type: MessageType): z.ZodType => Messages[type].schema;

describe('message contracts', () => {
  test('every message type of the catalogue has an example here', () => {
    expect(Object.keys(examples).sort()).toEqual([...types].sort());
  });

  test.each(types)('when a valid %s is parsed, then it is accepted unchanged', (type) => {
    const example = examples[type]();

    const result = schemaOf(type).safeParse(example);

    expect(result.success).toBe(true);
    expect(result.data).toEqual(example);
  });

  test.each(types)(
    'when %s carries fields the schema does not know, then it is accepted and they are stripped',
    (type) => {
      const example = examples[type]();

      const result = schemaOf(type).safeParse({
        ...example,
        addedInVersion2: 'ignored',
        nested: { x: 1 },
      });

      expect(result.success).toBe(true);
      expect(result.data).toEqual(example);
    },
  );

  test('when a line item or address carries unknown fields, then those are stripped too', () => {
    const example = examples.NewOrder();

    const result = Messages.NewOrder.schema.parse({
      ...example,
      items: [{ ...item, giftWrap: true }],
      shippingAddress: { ...address, floor: 3 },
    });

    expect(result.items).toEqual([item]);
    expect(result.shippingAddress).toEqual(address);
  });

  const centsCases = types.flatMap((type) =>
    (['totalCents', 'amountCents'] as const)
      .filter((field) => field in examples[type]())
      .flatMap(
        (field) =>
          [
            [type, field, -1],
            [type, field, 12.5],
          ] as const,
      ),
  );
  test.each(centsCases)('when %s has %s of %p, then it is rejected', (type, field, value) => {
    const result = schemaOf(type).safeParse({ ...examples[type](), [field]: value });

    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([field]);
  });

  const itemTypes = types.filter((type) => 'items' in examples[type]());
  test.each(
    itemTypes.flatMap(
      (type) =>
        [
          [type, -100],
          [type, 99.9],
        ] as const,
    ),
  )('when a line item of %s has unitPriceCents %p, then it is rejected', (type, unitPriceCents) => {
    const result = schemaOf(type).safeParse({
      ...examples[type](),
      items: [{ ...item, unitPriceCents }],
    });

    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['items', 0, 'unitPriceCents']);
  });

  test.each(
    itemTypes.flatMap(
      (type) =>
        [
          [type, 0],
          [type, 1.5],
        ] as const,
    ),
  )('when a line item of %s has quantity %p, then it is rejected', (type, quantity) => {
    expect(
      schemaOf(type).safeParse({ ...examples[type](), items: [{ ...item, quantity }] }).success,
    ).toBe(false);
  });

  test.each(itemTypes)('when %s has no items, then it is rejected', (type) => {
    const result = schemaOf(type).safeParse({ ...examples[type](), items: [] });

    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['items']);
  });

  const idCases = types.flatMap((type) =>
    Object.keys(examples[type]())
      .filter((field) => field.endsWith('Id') && field !== 'customerId')
      .map((field) => [type, field] as const),
  );
  test.each(idCases)('when %s has a non-uuid %s, then it is rejected', (type, field) => {
    const result = schemaOf(type).safeParse({ ...examples[type](), [field]: 'order-42' });

    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([field]);
  });

  const currencyTypes = types.filter((type) => 'currency' in examples[type]());
  test.each(
    currencyTypes.flatMap(
      (type) =>
        [
          [type, 'eur'],
          [type, 'EURO'],
          [type, '€'],
          [type, ''],
        ] as const,
    ),
  )('when %s has currency %p, then it is rejected', (type, currency) => {
    const result = schemaOf(type).safeParse({ ...examples[type](), currency });

    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['currency']);
  });

  test.each(types)('when a required field of %s is missing, then it is rejected', (type) => {
    const example = examples[type]();
    for (const field of Object.keys(example)) {
      const { [field]: _omitted, ...rest } = example;
      expect(schemaOf(type).safeParse(rest).success).toBe(false);
    }
  });

  test('when NewOrder has a placedAt that is not an ISO-8601 UTC timestamp, then it is rejected', () => {
    expect(
      Messages.NewOrder.schema.safeParse({ ...examples.NewOrder(), placedAt: '31/01/2025' })
        .success,
    ).toBe(false);
  });

  test('when a shipping address has a country that is not an ISO 3166 alpha-2 code, then it is rejected', () => {
    const result = Messages.ShipOrder.schema.safeParse({
      ...examples.ShipOrder(),
      shippingAddress: { ...address, country: 'gb' },
    });

    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['shippingAddress', 'country']);
  });

  describe('payment (DESIGN.md section 4a)', () => {
    test('when NewOrder carries payment details, then they are accepted, and without them it is valid too', () => {
      const example = { ...examples.NewOrder(), payment: { cardToken: 'tok_declined' } };

      expect(Messages.NewOrder.schema.parse(example)).toEqual(example);
      expect(Messages.NewOrder.schema.parse(examples.NewOrder()).payment).toBeUndefined();
    });

    test('when the payment details of NewOrder carry unknown fields, then those are stripped', () => {
      const result = Messages.NewOrder.schema.parse({
        ...examples.NewOrder(),
        payment: { cardToken: 'tok_visa', cvc: '123' },
      });

      expect(result.payment).toEqual({ cardToken: 'tok_visa' });
    });

    test.each([
      ['a number', { cardToken: 4242 }],
      ['an empty token', { cardToken: '' }],
      ['a blank token', { cardToken: '   ' }],
      ['a token over 64 characters', { cardToken: `tok_${'x'.repeat(61)}` }],
      ['no token', {}],
      ['a string instead of an object', 'tok_visa'],
    ])('when NewOrder has payment details with %s, then it is rejected', (_case, payment) => {
      const result = Messages.NewOrder.schema.safeParse({ ...examples.NewOrder(), payment });

      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.path[0]).toBe('payment');
    });

    test.each([
      ['a number', 4242],
      ['an empty token', ''],
      ['a token over 64 characters', `tok_${'x'.repeat(61)}`],
    ])(
      'when AuthorizePayment has a card token that is %s, then it is rejected',
      (_case, cardToken) => {
        const result = Messages.AuthorizePayment.schema.safeParse({
          ...examples.AuthorizePayment(),
          cardToken,
        });

        expect(result.success).toBe(false);
        expect(result.error?.issues[0]?.path).toEqual(['cardToken']);
      },
    );

    test('when AuthorizePayment has a token of exactly 64 characters, then it is accepted', () => {
      const cardToken = `tok_${'x'.repeat(60)}`;

      expect(
        Messages.AuthorizePayment.schema.parse({ ...examples.AuthorizePayment(), cardToken })
          .cardToken,
      ).toBe(cardToken);
    });

    const reasonTypes = ['PaymentDeclined', 'AuthorizationDeclined', 'OrderCancelled'] as const;
    test.each(
      reasonTypes.flatMap(
        (type) =>
          [
            [type, ''],
            [type, 'Card declined'],
            [type, 42],
            [type, `r${'x'.repeat(64)}`],
          ] as const,
      ),
    )('when %s has reason %p, then it is rejected', (type, reason) => {
      const result = schemaOf(type).safeParse({ ...examples[type](), reason });

      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(['reason']);
    });

    test.each(reasonTypes)(
      'when %s has a reason code added after this version, then it is accepted',
      (type) => {
        const example = { ...examples[type](), reason: 'fraud_suspected' };

        expect(schemaOf(type).parse(example)).toEqual(example);
      },
    );

    test.each([
      ['PaymentAuthorized', 'authorizedAt'],
      ['AuthorizationAccepted', 'authorizedAt'],
      ['PaymentDeclined', 'declinedAt'],
      ['AuthorizationDeclined', 'declinedAt'],
      ['OrderCancelled', 'cancelledAt'],
    ] as const)(
      'when %s has %s that is not an ISO-8601 UTC timestamp, then it is rejected',
      (type, field) => {
        const result = schemaOf(type).safeParse({ ...examples[type](), [field]: '31/01/2025' });

        expect(result.success).toBe(false);
        expect(result.error?.issues[0]?.path).toEqual([field]);
      },
    );

    test('when the payment messages are looked up, then each travels where section 4a says', () => {
      const route = (type: MessageType) => {
        const { kind, exchange, routingKey, senders } = Messages[type];
        return { kind, exchange, routingKey, senders };
      };

      expect(route('AuthorizePayment')).toEqual({
        kind: 'command',
        exchange: 'payment.commands',
        routingKey: 'AuthorizePayment',
        senders: ['order'],
      });
      expect(route('PaymentAuthorized')).toEqual({
        kind: 'reply',
        exchange: 'order.replies',
        routingKey: 'PaymentAuthorized',
        senders: ['payment'],
      });
      expect(route('PaymentDeclined')).toEqual({
        kind: 'reply',
        exchange: 'order.replies',
        routingKey: 'PaymentDeclined',
        senders: ['payment'],
      });
      expect(route('AuthorizationAccepted')).toEqual({
        kind: 'event',
        exchange: 'payment.events',
        routingKey: 'authorization.accepted',
        senders: ['payment'],
      });
      expect(route('AuthorizationDeclined')).toEqual({
        kind: 'event',
        exchange: 'payment.events',
        routingKey: 'authorization.declined',
        senders: ['payment'],
      });
      expect(route('OrderCancelled')).toEqual({
        kind: 'event',
        exchange: 'order.events',
        routingKey: 'order.cancelled',
        senders: ['order'],
      });
      expect(Exchanges.paymentCommands).toEqual({
        name: 'payment.commands',
        type: 'direct',
        owner: 'payment',
      });
      expect(Exchanges.paymentEvents).toEqual({
        name: 'payment.events',
        type: 'topic',
        owner: 'payment',
      });
    });
  });

  test.each(types)('when %s is published, then its exchange is one of the contract', (type) => {
    const names: string[] = Object.values(Exchanges).map((exchange) => exchange.name);

    expect(names).toContain(Messages[type].exchange);
  });

  test.each(types.filter((type) => Messages[type].kind === 'reply'))(
    'when %s is replied, then it goes to order.replies keyed by its type',
    (type) => {
      expect(Messages[type]).toMatchObject({ exchange: 'order.replies', routingKey: type });
    },
  );

  test('when a type name is checked, then only names of the catalogue are message types', () => {
    expect(types.every(isMessageType)).toBe(true);
    expect(isMessageType('OrderExploded')).toBe(false);
    expect(isMessageType('toString')).toBe(false);
    expect(isMessageType(undefined)).toBe(false);
  });
});
