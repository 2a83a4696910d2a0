import { requireReplyTo, type MessageHandler } from '@app/messaging';
import { issueInvoice, type IssueInvoiceDeps } from '../../domain/issue-invoice.use-case';

/** Command style: Order tells Invoicing to invoice, and waits for the reply. */
export const createInvoiceHandler =
  (deps: IssueInvoiceDeps, queue: string): MessageHandler<'CreateInvoice'> =>
  async ({ envelope, payload, logger }) => {
    requireReplyTo(envelope, 'InvoiceCreated');
    const outcome = await issueInvoice(deps, queue, envelope, payload, { style: 'command' });
    logger.info(
      { outcome },
      outcome === 'processed' ? 'invoice created on command' : 'invoice already created',
    );
    return outcome;
  };
