import type { MessageHandler } from '@app/broker';
import type { OrderRepository } from '../../data-access/order.repository';
import { recordInvoice } from '../../domain/record-outcome.use-case';

/** The reply of Invoicing to a `CreateInvoice` command (command style). */
export const invoiceCreatedHandler =
  (orders: OrderRepository): MessageHandler<'InvoiceCreated'> =>
  async (message) => {
    const result = await recordInvoice(orders.for(message), message.payload);
    message.logger.info(
      { outcome: result.outcome, status: result.status },
      'invoice reply recorded',
    );
    return result.outcome;
  };
