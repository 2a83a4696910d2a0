import { messagesFor, type DeliveryRef } from '@app/broker';
import type { MessageIntent } from '@app/contracts';
import { pairUp } from '@app/runtime';
import { cancelOnce, createForOrdersOnce, type CreateOnce, type SqlClient } from '@app/store';
import type { Invoice } from '../domain/invoice';
import type { InvoiceBatch, Invoices } from '../domain/issue-invoice.use-case';
import type { Cancellations } from '../domain/void-invoice.use-case';
import type { Invoice as InvoiceRow } from '../generated/prisma/client';
import type { Database } from './prisma';

/** The columns of an invoice under Prisma's field names, so one mapper reads both paths. */
const INVOICE_COLUMNS = `id, order_id AS "orderId", customer_id AS "customerId",
  total_cents AS "totalCents", currency, status, created_at AS "createdAt"`;

export class InvoiceRepository {
  constructor(private readonly db: Database) {}

  async findById(id: string): Promise<Invoice | undefined> {
    const row = await this.db.prisma.invoice.findUnique({ where: { id } });
    return row ? toInvoice(row) : undefined;
  }

  async list(filter: { orderId?: string; limit: number }): Promise<Invoice[]> {
    const rows = await this.db.prisma.invoice.findMany({
      where: filter.orderId ? { orderId: filter.orderId } : undefined,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: filter.limit,
    });
    return rows.map(toInvoice);
  }

  /** The invoices as one delivery sees them: what it stores is recorded in the inbox. */
  for(message: DeliveryRef): Invoices & Cancellations {
    return {
      issueOnce: async (invoice, answer) => {
        const [outcome] = await createForOrdersOnce(this.db, [
          this.issueSpec(message, invoice, answer),
        ]);
        return outcome ?? 'duplicate';
      },

      cancelOnce: async (cancellation) => {
        const result = await cancelOnce(this.db, message.inbox, cancellation, {
          // The undo: an issued invoice becomes VOIDED.
          sql: `UPDATE invoices SET status = 'VOIDED' WHERE order_id = $1::uuid AND status = 'ISSUED'`,
          values: [cancellation.orderId],
        });
        if (result.outcome !== 'cancelled') return result.outcome;
        return result.undone > 0 ? 'voided' : 'no-invoice-yet';
      },
    };
  }

  /** The invoices as a batch of deliveries sees them: one statement for all where it can. */
  forBatch(messages: DeliveryRef[]): InvoiceBatch {
    return {
      issueEachOnce: async (invoices, answer) => {
        const outcomes = await createForOrdersOnce(
          this.db,
          pairUp(messages, invoices).map(([message, invoice]) =>
            this.issueSpec(message, invoice, answer),
          ),
        );
        return outcomes;
      },
    };
  }

  /** The invoice's write: inserted unless its order has one or was cancelled (see createForOrdersOnce). */
  private issueSpec(
    message: DeliveryRef,
    invoice: Invoice,
    answer: (invoice: Invoice, created: boolean) => MessageIntent[],
  ): CreateOnce<Invoice> {
    return {
      inbox: message.inbox,
      insert: {
        sql: `INSERT INTO invoices (id, order_id, customer_id, total_cents, currency, status, created_at)
              SELECT $1::uuid, $2::uuid, $3::text, $4::int, $5::text, $6::text, $7::timestamptz
              WHERE NOT order_is_cancelled($2::uuid)
              ON CONFLICT DO NOTHING`,
        values: [
          invoice.id,
          invoice.orderId,
          invoice.customerId,
          invoice.totalCents,
          invoice.currency,
          invoice.status,
          invoice.createdAt,
        ],
      },
      entity: invoice,
      findExisting: (tx) => this.findByOrderId(tx, invoice.orderId),
      messagesFor: (issued, created) =>
        messagesFor(answer(issued, created), 'invoicing', message.envelope),
    };
  }

  private async findByOrderId(tx: SqlClient, orderId: string): Promise<Invoice | undefined> {
    const [row] = await tx.$queryRawUnsafe<InvoiceRow[]>(
      `SELECT ${INVOICE_COLUMNS} FROM invoices WHERE order_id = $1::uuid`,
      orderId,
    );
    return row ? toInvoice(row) : undefined;
  }
}

function toInvoice(row: InvoiceRow): Invoice {
  return {
    id: row.id,
    orderId: row.orderId,
    customerId: row.customerId,
    totalCents: row.totalCents,
    currency: row.currency,
    status: row.status as Invoice['status'],
    createdAt: row.createdAt,
  };
}
