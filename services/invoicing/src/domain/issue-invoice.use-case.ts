import { randomUUID } from 'node:crypto';
import type { Envelope, LineItem } from '@app/contracts';
import { buildMessage, type HandlerOutcome, type OutgoingMessage } from '@app/messaging';
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
 * How the outcome travels back. Event style: announce `InvoiceIssued` to whoever
 * subscribed. Command style: reply `InvoiceCreated` to the sender of the command.
 */
export type Answer = { style: 'event' } | { style: 'command' };

/**
 * Issues the invoice of an order, at most once per order however often the request
 * arrives, and answers in the same transaction. A repeated command is answered again
 * with the invoice issued first, so a sender that asks twice still hears back.
 */
export async function issueInvoice(
  deps: IssueInvoiceDeps,
  consumer: string,
  cause: Envelope,
  request: IssueInvoiceRequest,
  answer: Answer,
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
    (issued, created) => answerFor(issued, created, cause, answer),
  );
  deps.outboxWritten();
  return result.outcome;
}

function answerFor(
  invoice: Invoice,
  created: boolean,
  cause: Envelope,
  answer: Answer,
): OutgoingMessage[] {
  const causation = {
    correlationId: invoice.orderId,
    causationId: cause.messageId,
    traceparent: cause.traceparent,
  };
  if (answer.style === 'command') {
    return [
      buildMessage(
        'InvoiceCreated',
        { invoiceId: invoice.id, orderId: invoice.orderId },
        'invoicing',
        causation,
      ),
    ];
  }
  if (!created) return [];
  return [
    buildMessage(
      'InvoiceIssued',
      {
        invoiceId: invoice.id,
        orderId: invoice.orderId,
        totalCents: invoice.totalCents,
        currency: invoice.currency,
        issuedAt: invoice.createdAt.toISOString(),
      },
      'invoicing',
      causation,
    ),
  ];
}
