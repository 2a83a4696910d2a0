import type { BatchHandler, MessageHandler } from '@app/broker';
import type { InvoiceRepository } from '../../data-access/invoice.repository';
import { issueInvoice, issueInvoices } from '../../domain/issue-invoice.use-case';

const said = {
  processed: 'invoice issued',
  duplicate: 'order already handled: nothing issued now',
  'order-cancelled': 'order cancelled before its NewOrder arrived: no invoice issued',
} as const;

/** Event style: Invoicing decides on its own to invoice every new order. */
export const newOrderHandler =
  (invoices: InvoiceRepository): MessageHandler<'NewOrder'> =>
  async (message) => {
    const outcome = await issueInvoice(invoices.for(message), message.payload, 'event');
    message.logger.info({ outcome }, said[outcome]);
    return outcome === 'duplicate' ? 'duplicate' : 'processed';
  };

/** The same for NewOrders that arrived together: their invoices in one transaction. */
export const newOrderBatchHandler =
  (invoices: InvoiceRepository): BatchHandler<'NewOrder'> =>
  async (messages) => {
    const outcomes = await issueInvoices(
      invoices.forBatch(messages),
      messages.map((message) => message.payload),
      'event',
    );
    return outcomes.map((outcome, index) => {
      messages[index]?.logger.info({ outcome }, said[outcome]);
      return outcome === 'duplicate' ? 'duplicate' : 'processed';
    });
  };
