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

/** The invoices, as a batch of requests handled together sees them (see InvoiceRepository.forBatch). */
export interface InvoiceBatch {
  /** `issueOnce` for each invoice, the i-th for the batch's i-th request, in one transaction where it can. */
  issueEachOnce(
    invoices: Invoice[],
    answer: (invoice: Invoice, created: boolean) => MessageIntent[],
  ): Promise<Outcome[]>;
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
  return invoices.issueOnce(invoiceFor(request), answerIn(style));
}

/** `issueInvoice` for several requests at once (a batch of deliveries): outcomes in their order. */
export function issueInvoices(
  invoices: InvoiceBatch,
  requests: IssueInvoiceRequest[],
  style: MessagingStyle,
): Promise<Outcome[]> {
  return invoices.issueEachOnce(requests.map(invoiceFor), answerIn(style));
}

function invoiceFor(request: IssueInvoiceRequest): Invoice {
  return {
    id: randomUUID(),
    orderId: request.orderId,
    customerId: request.customerId,
    totalCents: request.totalCents,
    currency: request.currency,
    status: 'ISSUED',
    createdAt: new Date(),
  };
}

function answerIn(style: MessagingStyle) {
  return (issued: Invoice, created: boolean): MessageIntent[] => {
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
  };
}
