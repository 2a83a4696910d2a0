import { randomUUID } from 'node:crypto';
import type { Envelope, LineItem } from '@app/contracts';
import { buildMessage, type HandlerOutcome } from '@app/messaging';
import type { InvoiceRepository } from '../data-access/invoice.repository';
import type { Invoice } from './invoice';

export interface IssueInvoiceRequest {
  orderId: string;
  customerId: string;
  items: LineItem[];
  totalCents: number;
  currency: string;
}

export interface IssueInvoiceDeps {
  invoices: InvoiceRepository;
  outboxWritten: () => void;
}

/**
 * Issues the invoice of an order and announces it with `InvoiceIssued`, in the same
 * transaction, at most once per order however often the request arrives.
 */
export async function issueInvoice(
  deps: IssueInvoiceDeps,
  consumer: string,
  cause: Envelope,
  request: IssueInvoiceRequest,
): Promise<HandlerOutcome> {
  const invoice: Invoice = {
    id: randomUUID(),
    orderId: request.orderId,
    customerId: request.customerId,
    totalCents: request.totalCents,
    currency: request.currency,
    status: 'ISSUED',
    createdAt: new Date(),
  };
  const result = await deps.invoices.issueOnce(
    { consumer, messageId: cause.messageId, type: cause.type },
    invoice,
    (issued) => [
      buildMessage(
        'InvoiceIssued',
        {
          invoiceId: issued.id,
          orderId: issued.orderId,
          totalCents: issued.totalCents,
          currency: issued.currency,
          issuedAt: issued.createdAt.toISOString(),
        },
        'invoicing',
        {
          correlationId: issued.orderId,
          causationId: cause.messageId,
          traceparent: cause.traceparent,
        },
      ),
    ],
  );
  if (result.outcome === 'processed') deps.outboxWritten();
  return result.outcome;
}
