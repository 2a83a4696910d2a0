import { on, type Subscription } from '@app/broker';
import { Queues } from '@app/contracts';
import type { InvoiceRepository } from '../../data-access/invoice.repository';
import { createInvoiceBatchHandler, createInvoiceHandler } from './create-invoice.handler';
import { newOrderBatchHandler, newOrderHandler } from './new-order.handler';
import { orderCancelledHandler } from './order-cancelled.handler';

/** Everything the Invoicing service consumes, and where. */
export function subscriptions(invoices: InvoiceRepository): Subscription[] {
  return [
    // Event style: Invoicing subscribes to Order's announcement.
    {
      queue: Queues.invoicingNewOrder.name,
      handlers: [on('NewOrder', newOrderHandler(invoices), newOrderBatchHandler(invoices))],
    },
    // Event style, compensation: Order cancels an order whose payment was declined.
    {
      queue: Queues.invoicingOrderCancelled.name,
      handlers: [on('OrderCancelled', orderCancelledHandler(invoices))],
    },
    // Command style: Invoicing's own command queue, which Order addresses.
    {
      queue: Queues.invoicingCommands.name,
      handlers: [
        on('CreateInvoice', createInvoiceHandler(invoices), createInvoiceBatchHandler(invoices)),
      ],
    },
  ];
}
