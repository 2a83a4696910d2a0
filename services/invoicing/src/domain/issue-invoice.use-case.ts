import { randomUUID } from 'node:crypto';
import { say, type LineItem, type MessageIntent, type MessagingStyle } from '@app/contracts';
import type { Invoice } from './invoice';

export interface IssueInvoiceRequest {
  orderId: string;
  customerId: string;
  items: LineItem[];
  totalCents: number;
  currency: string;
}

/**
 * `duplicate` when the request was handled before and changed nothing now;
 * `order-cancelled` when the order was cancelled before it arrived, so no invoice is issued.
 */
export type Outcome = 'processed' | 'duplicate' | 'order-cancelled';

/** The invoices, as the request being handled sees them (see InvoiceRepository.for). */
export interface Invoices {
  /**
   * Stores `invoice` unless its order has one already or was cancelled, with the messages
   * `answer` decides on, in one transaction and at most once per request. `answer` hears
   * whether this invoice was created now or an earlier one is answered again.
   */
  issueOnce(
    invoice: Invoice,
    answer: (invoice: Invoice, created: boolean) => MessageIntent[],
  ): Promise<Outcome>;
}

/**
 * Issues the invoice of an order, at most once per order however often the request
 * arrives, and answers in the same transaction. Event style: announce `InvoiceIssued` to
 * whoever subscribed. Command style: reply `InvoiceCreated` to the sender, again with the
 * first invoice if the command is repeated, so a sender that asks twice still hears back.
 */
export function issueInvoice(
  invoices: Invoices,
  request: IssueInvoiceRequest,
  style: MessagingStyle,
): Promise<Outcome> {
  const invoice: Invoice = {
    id: randomUUID(),
    orderId: request.orderId,
    customerId: request.customerId,
    totalCents: request.totalCents,
    currency: request.currency,
    status: 'ISSUED',
    createdAt: new Date(),
  };
  return invoices.issueOnce(invoice, (issued, created) => {
    if (style === 'command') {
      return [say('InvoiceCreated', { invoiceId: issued.id, orderId: issued.orderId })];
    }
    if (!created) return [];
    return [
      say('InvoiceIssued', {
        invoiceId: issued.id,
        orderId: issued.orderId,
        totalCents: issued.totalCents,
        currency: issued.currency,
        issuedAt: issued.createdAt.toISOString(),
      }),
    ];
  });
}
