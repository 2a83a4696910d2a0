import { on, type Subscription } from '@app/broker';
import type { InvoiceRepository } from '../../data-access/invoice.repository';
import { createInvoiceHandler } from './create-invoice.handler';
import { newOrderHandler } from './new-order.handler';
import { orderCancelledHandler } from './order-cancelled.handler';

/** Everything the Invoicing service consumes, and where. */
export function subscriptions(invoices: InvoiceRepository): Subscription[] {
  return [
    // Event style: Invoicing subscribes to Order's announcement.
    { queue: 'invoicing.new-order', handlers: [on('NewOrder', newOrderHandler(invoices))] },
    // Event style, compensation: Order cancels an order whose payment was declined.
    {
      queue: 'invoicing.order-cancelled',
      handlers: [on('OrderCancelled', orderCancelledHandler(invoices))],
    },
    // Command style: Invoicing's own command queue, which Order addresses.
    {
      queue: 'invoicing.commands',
      handlers: [on('CreateInvoice', createInvoiceHandler(invoices))],
    },
  ];
}
