import type { OrderRepository } from '../../data-access/order.repository';
import { outcomeHandlers } from './outcome-handlers';

/** Event style: Invoicing announced the invoice of an order. */
export const invoiceIssuedHandler = (orders: OrderRepository) =>
  outcomeHandlers(orders, 'InvoiceIssued', 'invoice recorded', ({ orderId, invoiceId }) => ({
    orderId,
    event: { kind: 'invoice-known', invoiceId },
  }));
