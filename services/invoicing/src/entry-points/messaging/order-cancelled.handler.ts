import type { MessageHandler } from '@app/broker';
import type { InvoiceRepository } from '../../data-access/invoice.repository';
import { voidInvoice } from '../../domain/void-invoice.use-case';

const said = {
  voided: 'invoice voided',
  'no-invoice-yet': 'order cancelled before its invoice: none will be issued',
  'already-cancelled': 'order already cancelled: nothing changed',
  duplicate: 'cancellation already handled',
} as const;

/** Event style: compensation. Order cancelled an order, so its invoice is voided. */
export const orderCancelledHandler =
  (invoices: InvoiceRepository): MessageHandler<'OrderCancelled'> =>
  async (message) => {
    const outcome = await voidInvoice(invoices.for(message), message.payload);
    message.logger.info({ outcome, reason: message.payload.reason }, said[outcome]);
    return outcome === 'voided' || outcome === 'no-invoice-yet' ? 'processed' : 'duplicate';
  };
