import { Exchanges, say, type MessageIntent } from '@app/contracts';
import { TerminalStatuses, statusAfterOutcome, type Order, type OrderChange } from './order';

/** What Order hears about one of its orders, in either style. */
export type OrderEvent =
  | { kind: 'payment-authorized'; paymentId: string }
  | { kind: 'payment-declined'; reason: string }
  | { kind: 'invoice-known'; invoiceId: string }
  | { kind: 'shipment-known'; shipmentId: string };

/** What the saga does with an event: the change to store and the messages to send with it. */
export interface Transition {
  change: OrderChange;
  say: MessageIntent[];
}

/**
 * The saga of an order, one row per event. Orchestration (command style): nothing is
 * invoiced or shipped before the payment is authorized, then Order sends the commands; a
 * decline cancels an order nothing else has acted on. Choreography (event style): Invoicing,
 * Shipping and Payment act at once on NewOrder, so a decline cancels the order and
 * announces `OrderCancelled` for them to compensate. Each row keeps the first value it
 * learns (a repeated message under a new id changes nothing).
 */
const transitions: {
  [K in OrderEvent['kind']]: (order: Order, event: Extract<OrderEvent, { kind: K }>) => Transition;
} = {
  'payment-authorized': (order, { paymentId }) => ({
    change: withStatus(order, { paymentId: order.paymentId ?? paymentId }),
    say: order.style === 'command' && !order.paymentId ? fulfilmentCommands(order) : [],
  }),
  'payment-declined': (order, { reason }) => ({
    change: { status: 'CANCELLED', cancellationReason: reason },
    say:
      order.style === 'event'
        ? [
            say('OrderCancelled', {
              orderId: order.id,
              reason,
              cancelledAt: new Date().toISOString(),
            }),
          ]
        : [],
  }),
  'invoice-known': (order, { invoiceId }) => ({
    change: withStatus(order, { invoiceId: order.invoiceId ?? invoiceId }),
    say: [],
  }),
  'shipment-known': (order, { shipmentId }) => ({
    change: withStatus(order, { shipmentId: order.shipmentId ?? shipmentId }),
    say: [],
  }),
};

/**
 * The transition of `order` on `event`, or `ignored` when the order is terminal: a late
 * or repeated message never revives a cancelled, failed or completed order.
 */
export function transition(order: Order, event: OrderEvent): Transition | 'ignored' {
  if (TerminalStatuses.has(order.status)) return 'ignored';
  const apply = transitions[event.kind] as (order: Order, event: OrderEvent) => Transition;
  return apply(order, event);
}

function withStatus(order: Order, change: OrderChange): OrderChange {
  return { ...change, status: statusAfterOutcome({ ...order, ...change }) };
}

/** Command style, once the payment is authorized: tell Invoicing and Shipping. */
export function fulfilmentCommands(order: Order): MessageIntent[] {
  const replyTo = Exchanges.orderReplies.name;
  return [
    say(
      'CreateInvoice',
      {
        orderId: order.id,
        customerId: order.customerId,
        items: order.items,
        totalCents: order.totalCents,
        currency: order.currency,
      },
      replyTo,
    ),
    say(
      'ShipOrder',
      { orderId: order.id, items: order.items, shippingAddress: order.shippingAddress },
      replyTo,
    ),
  ];
}
