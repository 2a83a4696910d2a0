import type { OrderRepository } from '../../data-access/order.repository';
import { outcomeHandlers } from './outcome-handlers';

/** The reply of Invoicing to a `CreateInvoice` command (command style). */
export const invoiceCreatedHandler = (orders: OrderRepository) =>
  outcomeHandlers(orders, 'InvoiceCreated', 'invoice reply recorded', ({ orderId, invoiceId }) => ({
    orderId,
    event: { kind: 'invoice-known', invoiceId },
  }));
