import { on, type Subscription } from '@app/messaging';
import type { OrderRepository } from '../../data-access/order.repository';
import { invoiceIssuedHandler } from './invoice-issued.handler';
import { shipmentPreparedHandler } from './shipment-prepared.handler';

/** Everything the Order service consumes, and where. */
export function subscriptions(orders: OrderRepository): Subscription[] {
  return [
    {
      queue: 'order.invoice-issued',
      handlers: [on('InvoiceIssued', invoiceIssuedHandler(orders, 'order.invoice-issued'))],
    },
    {
      queue: 'order.shipment-prepared',
      handlers: [
        on('ShipmentPrepared', shipmentPreparedHandler(orders, 'order.shipment-prepared')),
      ],
    },
  ];
}
