import { END_TO_END, POST_TO_COMMIT, RELAY, stagesOf, type Timeline } from '../../src/timeline';

const order = 'a0000000-0000-4000-8000-000000000001';

/** One event-style order, every timestamp in ms after an arbitrary origin. */
const timeline: Timeline = {
  orders: [{ id: order, status: 'COMPLETED', createdAt: 1, updatedAt: 40 }],
  outbox: {
    order: [{ messageId: 'm1', type: 'NewOrder', orderId: order, createdAt: 2, sentAt: 8 }],
    invoicing: [
      { messageId: 'm2', type: 'InvoiceIssued', orderId: order, createdAt: 12, sentAt: 15 },
    ],
    shipping: [
      { messageId: 'm3', type: 'ShipmentPrepared', orderId: order, createdAt: 13, sentAt: 20 },
    ],
    payment: [],
  },
  inbox: {
    invoicing: [
      { messageId: 'm1', consumer: 'invoicing.new-order', type: 'NewOrder', receivedAt: 10 },
    ],
    shipping: [
      { messageId: 'm1', consumer: 'shipping.new-order', type: 'NewOrder', receivedAt: 11 },
    ],
    statistics: [
      { messageId: 'm1', consumer: 'statistics.new-order', type: 'NewOrder', receivedAt: 9 },
    ],
    payment: [],
    order: [
      { messageId: 'm2', consumer: 'order.invoice-issued', type: 'InvoiceIssued', receivedAt: 25 },
      {
        messageId: 'm3',
        consumer: 'order.shipment-prepared',
        type: 'ShipmentPrepared',
        receivedAt: 38,
      },
    ],
  },
};

describe('stagesOf', () => {
  it('when an order went all the way, then each stage is the gap between its timestamps', () => {
    const stages = stagesOf([{ id: order, sentAt: 0, answeredAt: 5 }], timeline);
    expect(Object.fromEntries(stages)).toEqual({
      [POST_TO_COMMIT]: [5],
      [RELAY]: [3],
      'commit -> invoicing.new-order inbox': [5],
      'commit -> shipping.new-order inbox': [6],
      'commit -> statistics.new-order inbox': [4],
      'invoicing relay: outbox write -> confirmed': [3],
      'invoicing inbox -> order.invoice-issued inbox (InvoiceIssued)': [15],
      'shipping relay: outbox write -> confirmed': [7],
      'shipping inbox -> order.shipment-prepared inbox (ShipmentPrepared)': [27],
      [END_TO_END]: [40],
    });
  });

  it('when an order is not completed, then it has no end-to-end time', () => {
    const open: Timeline = {
      ...timeline,
      orders: [{ ...timeline.orders[0]!, status: 'INVOICED' }],
    };
    expect(
      stagesOf([{ id: order, sentAt: 0, answeredAt: 5 }], open).get(END_TO_END),
    ).toBeUndefined();
  });

  it('when rows belong to orders this run did not place, then they are left out', () => {
    const stages = stagesOf([], timeline);
    expect([...stages.keys()]).toEqual([]);
  });
});
