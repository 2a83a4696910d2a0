import type { MessageHandler } from '@app/messaging';
import type { OrderRepository } from '../../data-access/order.repository';
import { recordInvoice } from '../../domain/record-outcome.use-case';

/** The reply of Invoicing to a `CreateInvoice` command (command style). */
export const invoiceCreatedHandler =
  (orders: OrderRepository, queue: string): MessageHandler<'InvoiceCreated'> =>
  async ({ envelope, payload, logger }) => {
    const result = await recordInvoice(
      orders,
      { consumer: queue, messageId: envelope.messageId, type: envelope.type },
      payload,
    );
    logger.info({ outcome: result.outcome, status: result.status }, 'invoice reply recorded');
    return result.outcome;
  };
