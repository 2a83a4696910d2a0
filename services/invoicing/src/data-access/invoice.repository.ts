import {
  addToOutbox,
  claimInbox,
  outboxInsert,
  outboxRows,
  type OutgoingMessage,
} from '@app/messaging';
import type { Invoice } from '../domain/invoice';
import type { Invoice as InvoiceRow } from '../generated/prisma/client';
import type { Database } from './prisma';

export interface InboxRef {
  consumer: string;
  messageId: string;
  type: string;
}

export type IssueResult =
  { outcome: 'processed'; invoice: Invoice } | { outcome: 'duplicate'; invoice?: Invoice };

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

  /**
   * Stores the invoice and the messages announcing it in one transaction, once per
   * message (inbox) and once per order (unique order id): a second request for the same
   * order, by any route, finds the first invoice and creates nothing, though it may
   * still answer (`messagesFor` with `created` false).
   */
  async issueOnce(
    inbox: InboxRef,
    invoice: Invoice,
    messagesFor: (invoice: Invoice, created: boolean) => OutgoingMessage[],
  ): Promise<IssueResult> {
    const first = this.issueFirst(inbox, invoice, messagesFor(invoice, true));
    if (await first.catch(unlessDuplicate)) return { outcome: 'processed', invoice };
    // The order has an invoice already, or this message was handled before: decide which.
    return this.db.transaction(async (tx) => {
      if (!(await claimInbox(tx, inbox.consumer, inbox.messageId, inbox.type))) {
        return { outcome: 'duplicate' } as const;
      }
      // ON CONFLICT DO NOTHING: a concurrent request for the same order waits for the
      // first to commit, then finds its invoice instead of failing on the unique index.
      const count = await tx.$executeRawUnsafe(
        `INSERT INTO invoices (id, order_id, customer_id, total_cents, currency, status, created_at)
         VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
        invoice.id,
        invoice.orderId,
        invoice.customerId,
        invoice.totalCents,
        invoice.currency,
        invoice.status,
        invoice.createdAt,
      );
      if (count === 0) {
        const [row] = await tx.$queryRawUnsafe<InvoiceSqlRow[]>(
          `SELECT id, order_id, customer_id, total_cents, currency, status, created_at
             FROM invoices WHERE order_id = $1::uuid`,
          invoice.orderId,
        );
        if (!row)
          throw new Error(`invoice of order ${invoice.orderId} conflicted but is not there`);
        const earlier = fromSqlRow(row);
        for (const message of messagesFor(earlier, false)) await addToOutbox(tx, message);
        return { outcome: 'duplicate', invoice: earlier } as const;
      }
      for (const message of messagesFor(invoice, true)) await addToOutbox(tx, message);
      return { outcome: 'processed', invoice } as const;
    });
  }

  /**
   * The usual case in one statement (one round trip, its own transaction): the invoice,
   * the inbox row and the messages, or, when the order has an invoice already, nothing.
   * A message handled before finds its order's invoice, so its inbox row does not collide
   * here; if it did (the invoice was removed by hand), the statement would write nothing.
   */
  private async issueFirst(
    inbox: InboxRef,
    invoice: Invoice,
    messages: OutgoingMessage[],
  ): Promise<boolean> {
    const [row] = await this.db.$queryRawUnsafe<{ created: number }[]>(
      `WITH invoice AS (
         INSERT INTO invoices (id, order_id, customer_id, total_cents, currency, status, created_at)
         VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id),
       inbox AS (
         INSERT INTO inbox_messages (consumer, message_id, type)
         SELECT $8, $9::uuid, $10 FROM invoice),
       outbox AS (${outboxInsert('$11')} WHERE EXISTS (SELECT 1 FROM invoice))
       SELECT count(*)::int AS created FROM invoice`,
      invoice.id,
      invoice.orderId,
      invoice.customerId,
      invoice.totalCents,
      invoice.currency,
      invoice.status,
      invoice.createdAt,
      inbox.consumer,
      inbox.messageId,
      inbox.type,
      outboxRows(messages),
    );
    return row?.created === 1;
  }
}

/** An invoice row as `pg` returns it. */
interface InvoiceSqlRow {
  id: string;
  order_id: string;
  customer_id: string;
  total_cents: number;
  currency: string;
  status: string;
  created_at: Date;
}

const fromSqlRow = (row: InvoiceSqlRow): Invoice => ({
  id: row.id,
  orderId: row.order_id,
  customerId: row.customer_id,
  totalCents: row.total_cents,
  currency: row.currency,
  status: row.status as Invoice['status'],
  createdAt: row.created_at,
});

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

/** A unique violation (23505) means "handled before": the transaction path says so. */
function unlessDuplicate(err: unknown): false {
  if ((err as { code?: string }).code === '23505') return false;
  throw err;
}
