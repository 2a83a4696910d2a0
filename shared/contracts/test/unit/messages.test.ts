import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { Messages, isMessageType, type MessageType } from '../../src';

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
    'totalCents' in examples[type]()
      ? ([
          [type, 'totalCents', -1],
          [type, 'totalCents', 12.5],
        ] as const)
      : [],
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

  test('when a type name is checked, then only names of the catalogue are message types', () => {
    expect(types.every(isMessageType)).toBe(true);
    expect(isMessageType('OrderExploded')).toBe(false);
    expect(isMessageType('toString')).toBe(false);
    expect(isMessageType(undefined)).toBe(false);
  });
});
