import { on, type Subscription } from '@app/messaging';
import type { IssueInvoiceDeps } from '../../domain/issue-invoice.use-case';
import { createInvoiceHandler } from './create-invoice.handler';
import { newOrderHandler } from './new-order.handler';

/** Everything the Invoicing service consumes, and where. */
export function subscriptions(deps: IssueInvoiceDeps): Subscription[] {
  return [
    // Event style: Invoicing subscribes to Order's announcement.
    {
      queue: 'invoicing.new-order',
      handlers: [on('NewOrder', newOrderHandler(deps, 'invoicing.new-order'))],
    },
    // Command style: Invoicing's own command queue, which Order addresses.
    {
      queue: 'invoicing.commands',
      handlers: [on('CreateInvoice', createInvoiceHandler(deps, 'invoicing.commands'))],
    },
  ];
}
