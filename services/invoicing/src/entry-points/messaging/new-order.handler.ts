import type { MessageHandler } from '@app/broker';
import type { InvoiceRepository } from '../../data-access/invoice.repository';
import { issueInvoice } from '../../domain/issue-invoice.use-case';

/** Event style: Invoicing decides on its own to invoice every new order. */
export const newOrderHandler =
  (invoices: InvoiceRepository): MessageHandler<'NewOrder'> =>
  async (message) => {
    const outcome = await issueInvoice(invoices.for(message), message.payload, 'event');
    message.logger.info(
      { outcome },
      outcome === 'processed' ? 'invoice issued' : 'invoice already issued',
    );
    return outcome;
  };
