import { on, type Subscription } from '@app/messaging';
import type { IssueInvoiceDeps } from '../../domain/issue-invoice.use-case';
import { newOrderHandler } from './new-order.handler';

/** Everything the Invoicing service consumes, and where. */
export function subscriptions(deps: IssueInvoiceDeps): Subscription[] {
  return [
    {
      queue: 'invoicing.new-order',
      handlers: [on('NewOrder', newOrderHandler(deps, 'invoicing.new-order'))],
    },
  ];
}
