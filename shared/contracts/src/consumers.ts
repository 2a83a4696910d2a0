import type { MessageType, ServiceName } from './catalog';

/** A consumer queue: its name, the service that owns and reads it, and what it takes. */
export interface QueueDefinition {
  /** `<consumer>.<what>`; its retry and dead-letter companions are named after it. */
  readonly name: string;
  readonly consumer: ServiceName;
  /** The message types handled from it; its bindings follow from their catalog entries. */
  readonly messages: readonly MessageType[];
}

/**
 * Every consumer queue of the system (DESIGN.md section 4), the one place its name is
 * written: each service's `subscriptions.ts` takes its queue names from here, a unit test
 * of each service checks its subscriptions against this list, and docs/asyncapi.yaml is
 * generated from it. Renaming a queue is a change of its `name` here.
 */
export const Queues = {
  orderPaymentDecisions: {
    name: 'order.payment-decisions',
    consumer: 'order',
    messages: ['AuthorizationAccepted', 'AuthorizationDeclined'],
  },
  orderInvoiceIssued: {
    name: 'order.invoice-issued',
    consumer: 'order',
    messages: ['InvoiceIssued'],
  },
  orderShipmentPrepared: {
    name: 'order.shipment-prepared',
    consumer: 'order',
    messages: ['ShipmentPrepared'],
  },
  orderReplies: {
    name: 'order.command-replies',
    consumer: 'order',
    messages: ['PaymentAuthorized', 'PaymentDeclined', 'InvoiceCreated', 'ShipmentCreated'],
  },
  invoicingNewOrder: { name: 'invoicing.new-order', consumer: 'invoicing', messages: ['NewOrder'] },
  invoicingOrderCancelled: {
    name: 'invoicing.order-cancelled',
    consumer: 'invoicing',
    messages: ['OrderCancelled'],
  },
  invoicingCommands: {
    name: 'invoicing.create-invoice',
    consumer: 'invoicing',
    messages: ['CreateInvoice'],
  },
  shippingNewOrder: { name: 'shipping.new-order', consumer: 'shipping', messages: ['NewOrder'] },
  shippingOrderCancelled: {
    name: 'shipping.order-cancelled',
    consumer: 'shipping',
    messages: ['OrderCancelled'],
  },
  shippingCommands: { name: 'shipping.ship-order', consumer: 'shipping', messages: ['ShipOrder'] },
  statisticsNewOrder: {
    name: 'statistics.new-order',
    consumer: 'statistics',
    messages: ['NewOrder'],
  },
  statisticsOrderCancelled: {
    name: 'statistics.order-cancelled',
    consumer: 'statistics',
    messages: ['OrderCancelled'],
  },
  paymentNewOrder: { name: 'payment.new-order', consumer: 'payment', messages: ['NewOrder'] },
  paymentCommands: {
    name: 'payment.authorize-payment',
    consumer: 'payment',
    messages: ['AuthorizePayment'],
  },
} as const satisfies Record<string, QueueDefinition>;

export type QueueKey = keyof typeof Queues;

/** The queues a service consumes, in catalog order. */
export const queuesOf = (service: ServiceName): QueueDefinition[] =>
  Object.values(Queues).filter((queue: QueueDefinition) => queue.consumer === service);
