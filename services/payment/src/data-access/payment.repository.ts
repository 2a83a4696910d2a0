import { messagesFor, type DeliveryRef } from '@app/broker';
import type { DeclineReason, MessageIntent } from '@app/contracts';
import { pairUp } from '@app/runtime';
import { createManyOnce, createOnce, type CreateOnce, type SqlClient } from '@app/store';
import type { PaymentBatch, Payments } from '../domain/authorize-payment.use-case';
import type { Payment } from '../domain/payment';
import type { Payment as PaymentRow } from '../generated/prisma/client';
import type { Database } from './prisma';

/** The columns of a payment under Prisma's field names, so one mapper reads both paths. */
const PAYMENT_COLUMNS = `id, order_id AS "orderId", amount_cents AS "amountCents", currency,
  status, decline_reason AS "declineReason", created_at AS "createdAt"`;

export class PaymentRepository {
  constructor(private readonly db: Database) {}

  async findById(id: string): Promise<Payment | undefined> {
    const row = await this.db.prisma.payment.findUnique({ where: { id } });
    return row ? toPayment(row) : undefined;
  }

  async list(filter: { orderId?: string; limit: number }): Promise<Payment[]> {
    const rows = await this.db.prisma.payment.findMany({
      where: filter.orderId ? { orderId: filter.orderId } : undefined,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: filter.limit,
    });
    return rows.map(toPayment);
  }

  /** The payments as one delivery sees them: what it stores is recorded in the inbox. */
  for(message: DeliveryRef): Payments {
    return {
      decideOnce: async (payment, answer) => {
        const { outcome } = await createOnce(this.db, this.decideSpec(message, payment, answer));
        return outcome;
      },
    };
  }

  /** The payments as a batch of deliveries sees them: one statement for all where it can. */
  forBatch(messages: DeliveryRef[]): PaymentBatch {
    return {
      decideEachOnce: async (payments, answer) => {
        const results = await createManyOnce(
          this.db,
          pairUp(messages, payments).map(([message, payment]) =>
            this.decideSpec(message, payment, answer),
          ),
        );
        return results.map(({ outcome }) => outcome);
      },
    };
  }

  /** The payment's write: inserted unless its order has one (then that one is answered). */
  private decideSpec(
    message: DeliveryRef,
    payment: Payment,
    answer: (payment: Payment, created: boolean) => MessageIntent[],
  ): CreateOnce<Payment> {
    return {
      inbox: message.inbox,
      insert: {
        sql: `INSERT INTO payments (id, order_id, amount_cents, currency, status, decline_reason, created_at)
              VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
        values: [
          payment.id,
          payment.orderId,
          payment.amountCents,
          payment.currency,
          payment.status,
          payment.status === 'DECLINED' ? payment.declineReason : null,
          payment.createdAt,
        ],
      },
      entity: payment,
      findExisting: (tx) => this.findByOrderId(tx, payment.orderId),
      messagesFor: (decided, created) =>
        messagesFor(answer(decided, created), 'payment', message.envelope),
    };
  }

  private async findByOrderId(tx: SqlClient, orderId: string): Promise<Payment | undefined> {
    const [row] = await tx.$queryRawUnsafe<PaymentRow[]>(
      `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE order_id = $1::uuid`,
      orderId,
    );
    return row ? toPayment(row) : undefined;
  }
}

function toPayment(row: PaymentRow): Payment {
  const facts = {
    id: row.id,
    orderId: row.orderId,
    amountCents: row.amountCents,
    currency: row.currency,
    createdAt: row.createdAt,
  };
  return row.status === 'DECLINED'
    ? { ...facts, status: 'DECLINED', declineReason: row.declineReason as DeclineReason }
    : { ...facts, status: 'AUTHORIZED' };
}
