import type { MessageHandler } from '@app/messaging';
import { issueInvoice, type IssueInvoiceDeps } from '../../domain/issue-invoice.use-case';

export const newOrderHandler =
  (deps: IssueInvoiceDeps, queue: string): MessageHandler<'NewOrder'> =>
  ({ envelope, payload }) =>
    issueInvoice(deps, queue, envelope, payload);
