import {
  AFTER_PAYMENT,
  END_TO_END,
  PAYMENT_STEP,
  POST_TO_COMMIT,
  RELAY,
  stagesOf,
  type Timeline,
} from '../../src/timeline';

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

  it('when Payment decided, then the payment step runs from the 202 to the decision in Order inbox, and the rest to completion', () => {
    const paid: Timeline = {
      ...timeline,
      outbox: {
        ...timeline.outbox,
        payment: [
          {
            messageId: 'm4',
            type: 'AuthorizationAccepted',
            orderId: order,
            createdAt: 12,
            sentAt: 14,
          },
        ],
      },
      inbox: {
        ...timeline.inbox,
        payment: [
          { messageId: 'm1', consumer: 'payment.new-order', type: 'NewOrder', receivedAt: 9 },
        ],
        order: [
          ...timeline.inbox.order,
          {
            messageId: 'm4',
            consumer: 'order.payment-decisions',
            type: 'AuthorizationAccepted',
            receivedAt: 18,
          },
        ],
      },
    };
    const stages = stagesOf([{ id: order, sentAt: 0, answeredAt: 5 }], paid);
    expect(stages.get(PAYMENT_STEP)).toEqual([13]);
    expect(stages.get(AFTER_PAYMENT)).toEqual([22]);
    expect(
      stages.get('payment inbox -> order.payment-decisions inbox (AuthorizationAccepted)'),
    ).toEqual([9]);
    expect([...stages.keys()].at(-1)).toBe(END_TO_END);
  });

  it('when Order wrote more messages after a reply (command style), then the relay is timed on the first one only', () => {
    const command: Timeline = {
      ...timeline,
      outbox: {
        ...timeline.outbox,
        order: [
          { messageId: 'c2', type: 'CreateInvoice', orderId: order, createdAt: 20, sentAt: 24 },
          { messageId: 'c1', type: 'AuthorizePayment', orderId: order, createdAt: 2, sentAt: 6 },
        ],
      },
    };
    expect(stagesOf([{ id: order, sentAt: 0, answeredAt: 5 }], command).get(RELAY)).toEqual([1]);
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
