import type { MessageHandler } from '@app/messaging';
import { issueInvoice, type IssueInvoiceDeps } from '../../domain/issue-invoice.use-case';

/** Event style: Invoicing decides on its own to invoice every new order. */
export const newOrderHandler =
  (deps: IssueInvoiceDeps, queue: string): MessageHandler<'NewOrder'> =>
  async ({ envelope, payload, logger }) => {
    const outcome = await issueInvoice(deps, queue, envelope, payload, { style: 'event' });
    logger.info({ outcome }, outcome === 'processed' ? 'invoice issued' : 'invoice already issued');
    return outcome;
  };
