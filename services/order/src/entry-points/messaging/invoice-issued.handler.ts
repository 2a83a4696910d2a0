import type { MessageHandler } from '@app/messaging';
import type { OrderRepository } from '../../data-access/order.repository';
import { recordInvoice } from '../../domain/record-outcome.use-case';

export const invoiceIssuedHandler =
  (orders: OrderRepository, queue: string): MessageHandler<'InvoiceIssued'> =>
  ({ envelope, payload }) =>
    recordInvoice(orders, { consumer: queue, messageId: envelope.messageId, type: envelope.type }, payload);
