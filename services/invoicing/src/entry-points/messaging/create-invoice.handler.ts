import { requireReplyTo, type MessageHandler } from '@app/broker';
import type { InvoiceRepository } from '../../data-access/invoice.repository';
import { issueInvoice } from '../../domain/issue-invoice.use-case';

/** Command style: Order tells Invoicing to invoice, and waits for the reply. */
export const createInvoiceHandler =
  (invoices: InvoiceRepository): MessageHandler<'CreateInvoice'> =>
  async (message) => {
    requireReplyTo(message.envelope, 'InvoiceCreated');
    const outcome = await issueInvoice(invoices.for(message), message.payload, 'command');
    message.logger.info(
      { outcome },
      outcome === 'processed' ? 'invoice created on command' : 'invoice already created',
    );
    return outcome;
  };
