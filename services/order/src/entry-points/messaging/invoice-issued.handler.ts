import type { MessageHandler } from '@app/broker';
import type { OrderRepository } from '../../data-access/order.repository';
import { recordInvoice } from '../../domain/record-outcome.use-case';

/** Event style: Invoicing announced the invoice of an order. */
export const invoiceIssuedHandler =
  (orders: OrderRepository): MessageHandler<'InvoiceIssued'> =>
  async (message) => {
    const result = await recordInvoice(orders.for(message), message.payload);
    message.logger.info({ outcome: result.outcome, status: result.status }, 'invoice recorded');
    return result.outcome;
  };
