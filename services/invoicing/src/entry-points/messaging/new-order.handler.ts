import type { MessageHandler } from '@app/broker';
import type { InvoiceRepository } from '../../data-access/invoice.repository';
import { issueInvoice } from '../../domain/issue-invoice.use-case';

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
