import { aNewOrder, anItem } from '@app/testing';
import { orderPointsOf, pointsFor } from '../../src/domain/points';

describe('__name__ points of an order', () => {
  test('when an order of 25.99 EUR is placed, then the template awards no points yet', () => {
    const order = aNewOrder({
      currency: 'EUR',
      items: [anItem({ quantity: 1, unitPriceCents: 2_599 })],
    });

    expect(pointsFor(order)).toBe(0);
  });

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
