import { on, type Subscription } from '@app/broker';
import type { OrderRepository } from '../../data-access/order.repository';
import { invoiceCreatedHandler } from './invoice-created.handler';
import { invoiceIssuedHandler } from './invoice-issued.handler';
import { shipmentCreatedHandler } from './shipment-created.handler';
import { shipmentPreparedHandler } from './shipment-prepared.handler';

/** Everything the Order service consumes, and where. */
export function subscriptions(orders: OrderRepository): Subscription[] {
  return [
    // Event style: outcome events of Invoicing and Shipping that Order subscribes to.
    {
      queue: 'order.invoice-issued',
      handlers: [on('InvoiceIssued', invoiceIssuedHandler(orders))],
    },
    {
      queue: 'order.shipment-prepared',
      handlers: [on('ShipmentPrepared', shipmentPreparedHandler(orders))],
    },
    // Command style: replies addressed to Order.
    {
      queue: 'order.replies',
      handlers: [
        on('InvoiceCreated', invoiceCreatedHandler(orders)),
        on('ShipmentCreated', shipmentCreatedHandler(orders)),
      ],
    },
  ];
}
