import { randomUUID } from 'node:crypto';
import { NewOrderSchema } from '@app/contracts';
import {
  anAddress,
  anItem,
  anOrderRequest,
  request,
  startServiceUnderTest,
  waitFor,
  type ServiceUnderTest,
  type Spy,
  type TestBroker,
  type TestDatabase,
} from '@app/testing';
import { readConfig } from '../../src/config';
import { start, type RunningOrderService } from '../../src/main';
import { countRows } from './count-rows';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
const STACK_TRACE = /\bat \S+ \(|\bat \/|\.ts:\d|\.js:\d|node_modules/;

describe('order: HTTP API against a real broker and database', () => {
  let sut: ServiceUnderTest<RunningOrderService>;
  let db: TestDatabase;
  let broker: TestBroker;
  let newOrders: Spy;
  let url: string;

  beforeAll(async () => {
    sut = await startServiceUnderTest('order', 'order-routes', (env) => start(readConfig(env)));
    ({ db, broker, url } = sut);
    newOrders = await broker.spy('order.events', 'order.new');
  });

  afterAll(async () => {
    await sut?.teardown();
  });

  const count = (from: string, params: unknown[] = []) => countRows(db, from, params);

  const rowCounts = async () => ({
    orders: await count('orders'),
    outbox: await count('outbox_messages'),
  });

  const placeOrder = (
    body: Record<string, unknown> = anOrderRequest(),
    headers: Record<string, string> = {},
  ) => request(`${url}/orders`, { body, headers });

  const newOrderFor = (orderId: string) => (m: { body: unknown }) =>
    (m.body as { orderId?: string }).orderId === orderId;

  describe('POST /orders', () => {
    test('when a valid order is placed, then it is accepted as PLACED with its location and computed total', async () => {
      const order = anOrderRequest({
        items: [
          anItem({ quantity: 3, unitPriceCents: 1_000 }),
          anItem({ sku: 'SKU-PEN-7', quantity: 1, unitPriceCents: 399 }),
        ],
      });

      const response = await placeOrder(order);

      expect(response.status).toBe(202);
      expect(response.body).toEqual({
        id: expect.stringMatching(UUID),
        status: 'PLACED',
        style: 'event',
        customerId: order.customerId,
        items: order.items,
        totalCents: 3 * 1_000 + 399,
        currency: 'EUR',
        shippingAddress: order.shippingAddress,
        invoiceId: null,
        shipmentId: null,
        paymentId: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect(response.headers.get('location')).toBe(`/orders/${response.body.id}`);
      expect(new Date(response.body.createdAt).toISOString()).toBe(response.body.createdAt);
    });

    test('when no currency is given, then the order is in EUR', async () => {
      const { currency: _omitted, ...withoutCurrency } = anOrderRequest();

      const response = await placeOrder(withoutCurrency);

      expect(response.status).toBe(202);
      expect(response.body.currency).toBe('EUR');
    });

    test('when an order is placed, then a NewOrder matching the contract is published on order.events', async () => {
      const order = anOrderRequest();

      const response = await placeOrder(order);

      expect(response.status).toBe(202);
      const orderId = response.body.id as string;
      const [message] = await newOrders.waitForCount(1, newOrderFor(orderId));
      expect(message?.raw.fields).toMatchObject({
        exchange: 'order.events',
        routingKey: 'order.new',
      });
      expect(message?.raw.properties).toMatchObject({
        messageId: expect.stringMatching(UUID),
        type: 'NewOrder',
        correlationId: orderId,
        appId: 'order',
        contentType: 'application/json',
        deliveryMode: 2,
        timestamp: expect.any(Number),
      });
      expect(message?.raw.properties.headers?.traceparent).toMatch(TRACEPARENT);
      const payload = NewOrderSchema.safeParse(message?.body);
      expect(payload.error).toBeUndefined();
      expect(payload.data).toEqual({
        orderId,
        customerId: order.customerId,
        items: order.items,
        totalCents: response.body.totalCents,
        currency: 'EUR',
        shippingAddress: order.shippingAddress,
        placedAt: response.body.createdAt,
        payment: { cardToken: 'tok_visa' },
      });
    });

    test('when an order is published, then its outbox row is marked sent', async () => {
      const response = await placeOrder();

      const orderId = response.body.id as string;
      await newOrders.waitForCount(1, newOrderFor(orderId));
      await waitFor(
        'the outbox row to be marked sent',
        async () =>
          (await count(`outbox_messages WHERE payload->>'orderId' = $1 AND sent_at IS NOT NULL`, [
            orderId,
          ])) === 1,
      );
    });
  });

  describe('GET /orders/{id}', () => {
    test('when a placed order is asked for, then it is returned as it was accepted', async () => {
      const placed = await placeOrder();

      const response = await request(`${url}/orders/${placed.body.id}`);

      expect(response.status).toBe(200);
      expect(response.body).toEqual(placed.body);
    });

    test('when an unknown order is asked for, then the answer is 404 problem+json ORDER.NOT_FOUND', async () => {
      const id = randomUUID();

      const response = await request(`${url}/orders/${id}`);

      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body).toMatchObject({
        status: 404,
        code: 'ORDER.NOT_FOUND',
        detail: expect.stringContaining(id),
      });
    });

    test('when an order is asked for with an id that is not a uuid, then the answer is 404', async () => {
      const response = await request(`${url}/orders/not-a-uuid`);

      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body.code).toBe('ORDER.NOT_FOUND');
    });
  });

  describe('GET /orders', () => {
    test('when orders are listed two at a time, then the pages run newest first and the cursor leads to older ones', async () => {
      const mine: string[] = [];
      for (let i = 0; i < 3; i += 1) {
        const placed = await placeOrder();
        mine.push(placed.body.id as string);
        // Orders created in one millisecond tie on createdAt; wait for the clock, so the
        // expected order is the order of creation.
        await waitFor(
          'the clock to pass the last order',
          () => Date.now() > Date.parse(placed.body.createdAt as string),
          {
            intervalMs: 1,
          },
        );
      }

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor ? `limit=2&cursor=${encodeURIComponent(cursor)}` : 'limit=2';
        const page = await request(`${url}/orders?${query}`);
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        const ids = (page.body.items as { id: string }[]).map((o) => o.id);
        const dates = (page.body.items as { createdAt: string }[]).map((o) =>
          Date.parse(o.createdAt),
        );
        expect(dates).toEqual([...dates].sort((a, b) => b - a));
        seen.push(...ids);
        cursor = page.body.nextCursor as string | null;
        pages += 1;
      } while (cursor && !mine.every((id) => seen.includes(id)));

      expect(pages).toBeGreaterThanOrEqual(2);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.filter((id) => mine.includes(id))).toEqual([...mine].reverse());
    });

    test('when the list is read to its end, then the last page has no next cursor', async () => {
      let cursor: string | null = null;
      let last: { items: unknown[]; nextCursor: string | null } | undefined;
      do {
        const query: string = cursor
          ? `limit=100&cursor=${encodeURIComponent(cursor)}`
          : 'limit=100';
        last = (await request(`${url}/orders?${query}`)).body;
        cursor = last?.nextCursor ?? null;
      } while (cursor);

      expect(last?.nextCursor).toBeNull();
    });

    test('when an invalid cursor is given, then the answer is 400 naming the cursor', async () => {
      const response = await request(`${url}/orders?limit=2&cursor=not-a-cursor`);

      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body.errors).toEqual([expect.objectContaining({ field: 'query.cursor' })]);
    });

    test.each(['0', '1000', '-1', 'ten'])(
      'when limit=%s is asked for, then the answer is 400 naming the limit',
      async (limit) => {
        const response = await request(`${url}/orders?limit=${limit}`);

        expect(response.status).toBe(400);
        expect(response.headers.get('content-type')).toContain('application/problem+json');
        expect(response.body.errors).toEqual([expect.objectContaining({ field: 'query.limit' })]);
      },
    );
  });

  describe('Idempotency-Key', () => {
    test('when the same request is sent twice with one key, then both answers name one order with one NewOrder', async () => {
      const key = randomUUID();
      const order = anOrderRequest();

      const first = await placeOrder(order, { 'Idempotency-Key': key });
      const second = await placeOrder(order, { 'Idempotency-Key': key });

      expect(first.status).toBe(202);
      expect(second.status).toBe(202);
      expect(second.body.id).toBe(first.body.id);
      expect(second.headers.get('location')).toBe(`/orders/${first.body.id}`);
      expect(await count('orders WHERE idempotency_key = $1', [key])).toBe(1);
      expect(await count('orders WHERE customer_id = $1', [order.customerId])).toBe(1);
      expect(await count(`outbox_messages WHERE payload->>'orderId' = $1`, [first.body.id])).toBe(
        1,
      );
    });

    test('when one key is reused with a different body, then the answer is 422 ORDER.IDEMPOTENCY_KEY_REUSED and nothing is created', async () => {
      const key = randomUUID();
      await placeOrder(anOrderRequest(), { 'Idempotency-Key': key });
      const before = await rowCounts();

      const response = await placeOrder(anOrderRequest(), { 'Idempotency-Key': key });

      expect(response.status).toBe(422);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body).toMatchObject({
        status: 422,
        code: 'ORDER.IDEMPOTENCY_KEY_REUSED',
        detail: expect.any(String),
      });
      expect(await rowCounts()).toEqual(before);
    });
  });

  describe('bad input', () => {
    const withItem = (item: Record<string, unknown>) =>
      anOrderRequest({ items: [{ ...anItem(), ...item }] });
    const { customerId: _c, ...withoutCustomer } = anOrderRequest();
    const { items: _i, ...withoutItems } = anOrderRequest();
    const { shippingAddress: _s, ...withoutAddress } = anOrderRequest();
    const json = { 'content-type': 'application/json' };

    type BadRequest = { body?: unknown; rawBody?: string; headers?: Record<string, string> };
    test.each<[string, number, BadRequest, { code?: string; field?: string | RegExp }]>([
      ['customerId is missing', 400, { body: withoutCustomer }, { field: 'customerId' }],
      [
        'customerId is blank',
        400,
        { body: anOrderRequest({ customerId: '   ' }) },
        { field: 'customerId' },
      ],
      ['items are empty', 400, { body: anOrderRequest({ items: [] }) }, { field: 'items' }],
      ['items are missing', 400, { body: withoutItems }, { field: 'items' }],
      ['a quantity is 0', 400, { body: withItem({ quantity: 0 }) }, { field: 'items.0.quantity' }],
      [
        'the payment is not an object',
        400,
        { body: anOrderRequest({ payment: 'tok_visa' }) },
        { field: 'payment' },
      ],
      [
        'the card token is empty',
        400,
        { body: anOrderRequest({ payment: { cardToken: '' } }) },
        { field: 'payment.cardToken' },
      ],
      [
        'the card token is not a string',
        400,
        { body: anOrderRequest({ payment: { cardToken: 4242 } }) },
        { field: 'payment.cardToken' },
      ],
      [
        'the card token is over 64 characters',
        400,
        { body: anOrderRequest({ payment: { cardToken: 't'.repeat(65) } }) },
        { field: 'payment.cardToken' },
      ],
      [
        'the payment has an unknown field',
        400,
        { body: anOrderRequest({ payment: { cardToken: 'tok_visa', cardNumber: '4242' } }) },
        { field: /payment/ },
      ],
      [
        'a quantity is -1',
        400,
        { body: withItem({ quantity: -1 }) },
        { field: 'items.0.quantity' },
      ],
      [
        'a quantity is 1.5',
        400,
        { body: withItem({ quantity: 1.5 }) },
        { field: 'items.0.quantity' },
      ],
      [
        'a quantity is a string',
        400,
        { body: withItem({ quantity: '2' }) },
        { field: 'items.0.quantity' },
      ],
      [
        'a unit price is -5',
        400,
        { body: withItem({ unitPriceCents: -5 }) },
        { field: 'items.0.unitPriceCents' },
      ],
      [
        'a unit price is 9.99',
        400,
        { body: withItem({ unitPriceCents: 9.99 }) },
        { field: 'items.0.unitPriceCents' },
      ],
      ['a sku is empty', 400, { body: withItem({ sku: '' }) }, { field: 'items.0.sku' }],
      [
        'the shipping address is missing',
        400,
        { body: withoutAddress },
        { field: 'shippingAddress' },
      ],
      [
        "the country is 'Germany'",
        400,
        { body: anOrderRequest({ shippingAddress: anAddress({ country: 'Germany' }) }) },
        { field: 'shippingAddress.country' },
      ],
      [
        'an unknown field is at the top level',
        400,
        { body: anOrderRequest({ discountCode: 'FREE' }) },
        { field: /.+/ },
      ],
      [
        "the currency is 'euro'",
        400,
        { body: anOrderRequest({ currency: 'euro' }) },
        { field: 'currency' },
      ],
      ['the body is an array', 400, { body: [anOrderRequest()] }, { field: /.+/ }],
      [
        'the total exceeds 2147483647 cents',
        400,
        { body: withItem({ quantity: 2, unitPriceCents: 2_000_000_000 }) },
        { field: 'items' },
      ],
      [
        'the JSON is malformed',
        400,
        { rawBody: '{"customerId": "c-1", "items": [', headers: json },
        { code: 'REQUEST.MALFORMED_JSON' },
      ],
      [
        'the content type is text/plain',
        415,
        { rawBody: JSON.stringify(anOrderRequest()), headers: { 'content-type': 'text/plain' } },
        { code: 'REQUEST.UNSUPPORTED_MEDIA_TYPE' },
      ],
      [
        'the body is over 1 MB',
        413,
        {
          rawBody: JSON.stringify(anOrderRequest({ customerId: 'x'.repeat(1_100_000) })),
          headers: json,
        },
        { code: 'REQUEST.TOO_LARGE' },
      ],
    ])(
      'when %s, then the answer is %i problem+json and nothing is created',
      async (_case, status, input, expected) => {
        const before = await rowCounts();

        const response = await request(`${url}/orders`, { method: 'POST', ...input });

        expect(response.status).toBe(status);
        expect(response.headers.get('content-type')).toContain('application/problem+json');
        expect(response.body).toMatchObject({ status, detail: expect.any(String) });
        expect(response.body.detail.length).toBeGreaterThan(0);
        if (expected.code) expect(response.body.code).toBe(expected.code);
        if (expected.field) {
          const field = expected.field;
          expect(response.body.errors).toEqual(
            expect.arrayContaining([
              expect.objectContaining({
                field: typeof field === 'string' ? field : expect.stringMatching(field),
              }),
            ]),
          );
        }
        expect(JSON.stringify(response.body)).not.toMatch(STACK_TRACE);
        expect(await rowCounts()).toEqual(before);
      },
    );

    test('when an unknown field is at the top level, then the problem names that field', async () => {
      const response = await placeOrder(anOrderRequest({ discountCode: 'FREE' }));

      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body.errors)).toContain('discountCode');
    });
  });
});
