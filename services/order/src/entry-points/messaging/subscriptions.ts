import { on, type Subscription } from '@app/broker';
import { Queues } from '@app/contracts';
import type { OrderRepository } from '../../data-access/order.repository';
import { authorizationAcceptedHandler } from './authorization-accepted.handler';
import { authorizationDeclinedHandler } from './authorization-declined.handler';
import { invoiceCreatedHandler } from './invoice-created.handler';
import { invoiceIssuedHandler } from './invoice-issued.handler';
import { paymentAuthorizedHandler } from './payment-authorized.handler';
import { paymentDeclinedHandler } from './payment-declined.handler';
import { shipmentCreatedHandler } from './shipment-created.handler';
import { shipmentPreparedHandler } from './shipment-prepared.handler';

/** Everything the Order service consumes, and where. */
export function subscriptions(orders: OrderRepository): Subscription[] {
  return [
    // Event style: outcome events of Payment, Invoicing and Shipping that Order subscribes to.
    {
      queue: Queues.orderPaymentDecisions.name,
      handlers: [
        on('AuthorizationAccepted', authorizationAcceptedHandler(orders)),
        on('AuthorizationDeclined', authorizationDeclinedHandler(orders)),
      ],
    },
    {
      queue: Queues.orderInvoiceIssued.name,
      handlers: [on('InvoiceIssued', invoiceIssuedHandler(orders))],
    },
    {
      queue: Queues.orderShipmentPrepared.name,
      handlers: [on('ShipmentPrepared', shipmentPreparedHandler(orders))],
    },
    // Command style: replies addressed to Order.
    {
      queue: Queues.orderReplies.name,
      handlers: [
        on('PaymentAuthorized', paymentAuthorizedHandler(orders)),
        on('PaymentDeclined', paymentDeclinedHandler(orders)),
        on('InvoiceCreated', invoiceCreatedHandler(orders)),
        on('ShipmentCreated', shipmentCreatedHandler(orders)),
      ],
    },
  ];
}
