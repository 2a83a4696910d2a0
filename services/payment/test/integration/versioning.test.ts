import { z } from 'zod';
import { NewOrderSchema } from '@app/contracts';
import {
  aNewOrder,
  anItem,
  startServiceUnderTest,
  waitFor,
  type ServiceUnderTest,
} from '@app/testing';
import { readConfig } from '../../src/config';
import { start, type RunningPaymentService } from '../../src/main';
import { paymentsOf } from './support';

// docs/versioning.md, worked example: NewOrder gains a discount. The producer moves first;
// this Payment is the consumer built before the change (it parses with today's
// NewOrderSchema), and it must go on working while the new version is on the wire.

/** The producer's next NewOrder: an optional discount, totalCents still what is charged. */
const NewOrderWithDiscountSchema = NewOrderSchema.extend({
  discount: z.object({ code: z.string().min(1), amountCents: z.int().min(0) }).optional(),
});

describe('payment, built before NewOrder had a discount, while Order sends the new version', () => {
  let sut: ServiceUnderTest<RunningPaymentService>;

  beforeAll(async () => {
    sut = await startServiceUnderTest('payment', 'payment-versioning', (env) =>
      start(readConfig(env)),
    );
  });

  afterAll(async () => {
    await sut?.teardown();
  });

  test('when a NewOrder with a discount (additive: an optional field) arrives, then the old consumer authorizes the discounted total', async () => {
    const items = [anItem({ quantity: 2, unitPriceCents: 1_250 })];
    const order = NewOrderWithDiscountSchema.parse({
      ...aNewOrder({ items, totalCents: 2 * 1_250 - 250 }),
      discount: { code: 'WELCOME10', amountCents: 250 },
    });

    await sut.broker.publishMessage('NewOrder', order);

    const [payment] = await waitFor('the discounted order to be authorized', async () => {
      const payments = await paymentsOf(sut.db, order.orderId);
      return payments.length > 0 ? payments : undefined;
    });
    expect(payment).toMatchObject({ status: 'AUTHORIZED' });
    const [row] = await sut.db.query<{ amount_cents: number }>(
      'SELECT amount_cents FROM payments WHERE order_id = $1',
      [order.orderId],
    );
    expect(Number(row?.amount_cents)).toBe(2_250);
    expect(await sut.broker.depth('payment.new-order.dead')).toBe(0);
  });

  test('when the same change is made by renaming totalCents (breaking), then the old consumer parks the message and authorizes nothing', async () => {
    const { totalCents, ...rest } = aNewOrder();
    const renamed = { ...rest, amountDueCents: totalCents };

    await sut.broker.publishMessage('NewOrder', renamed);

    const [parked] = await waitFor('the renamed NewOrder to be parked', async () => {
      const messages = await sut.broker.drain('payment.new-order.dead');
      return messages.length > 0 ? messages : undefined;
    });
    expect(parked?.body).toMatchObject({ orderId: rest.orderId });
    expect(await paymentsOf(sut.db, rest.orderId)).toEqual([]);
  });
});
