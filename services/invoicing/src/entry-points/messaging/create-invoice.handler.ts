import { requireReplyTo, type BatchHandler, type MessageHandler } from '@app/broker';
import type { InvoiceRepository } from '../../data-access/invoice.repository';
import { issueInvoice, issueInvoices } from '../../domain/issue-invoice.use-case';

const said = {
  processed: 'invoice created on command',
  duplicate: 'invoice already created',
  // Order sends no command for a cancelled order; this says so if one ever came.
  'order-cancelled': 'order cancelled: no invoice created, no reply',
} as const;

/** Command style: Order tells Invoicing to invoice, and waits for the reply. */
export const createInvoiceHandler =
  (invoices: InvoiceRepository): MessageHandler<'CreateInvoice'> =>
  async (message) => {
    requireReplyTo(message.envelope, 'InvoiceCreated');
    const outcome = await issueInvoice(invoices.for(message), message.payload, 'command');
    message.logger.info({ outcome }, said[outcome]);
    return outcome === 'duplicate' ? 'duplicate' : 'processed';
  };

/** The same for commands that arrived together: their invoices in one transaction. */
export const createInvoiceBatchHandler =
  (invoices: InvoiceRepository): BatchHandler<'CreateInvoice'> =>
  async (messages) => {
    for (const message of messages) requireReplyTo(message.envelope, 'InvoiceCreated');
    const outcomes = await issueInvoices(
      invoices.forBatch(messages),
      messages.map((message) => message.payload),
      'command',
    );
    return outcomes.map((outcome, index) => {
      messages[index]?.logger.info({ outcome }, said[outcome]);
      return outcome === 'duplicate' ? 'duplicate' : 'processed';
    });
  };
