import type { MessageHandler } from '@app/messaging';
import type { OrderRepository } from '../../data-access/order.repository';
import { recordInvoice } from '../../domain/record-outcome.use-case';

export const invoiceIssuedHandler =
  (orders: OrderRepository, queue: string): MessageHandler<'InvoiceIssued'> =>
  async ({ envelope, payload, logger }) => {
    const result = await recordInvoice(
      orders,
      { consumer: queue, messageId: envelope.messageId, type: envelope.type },
      payload,
    );
    logger.info({ outcome: result.outcome, status: result.status }, 'invoice recorded');
    return result.outcome;
  };
