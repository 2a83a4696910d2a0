import { aNewOrder, anItem } from '@app/testing';
import { orderPointsOf, pointsFor } from '../../src/domain/points';

describe('__name__ points of an order', () => {
  test.each([
    [2_599, 25],
    [100, 1],
    [99, 0],
    [0, 0],
  ])(
    'when an order of %i cents is placed, then it earns %i points (one per whole euro)',
    (cents, points) => {
      const order = aNewOrder({
        currency: 'EUR',
        items: [anItem({ quantity: 1, unitPriceCents: cents })],
      });

      expect(pointsFor(order)).toBe(points);
    },
  );

  test('when an order is recorded, then its points come with its order, customer, total and time', () => {
    const order = aNewOrder({ items: [anItem({ quantity: 2, unitPriceCents: 1_000 })] });

    expect(orderPointsOf(order)).toEqual({
      orderId: order.orderId,
      customerId: order.customerId,
      points: pointsFor(order),
      totalCents: 2_000,
      currency: order.currency,
      placedAt: new Date(order.placedAt),
    });
  });
});
