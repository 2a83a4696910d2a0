import type { MessageHandler } from '@app/broker';
import type { OrderRepository } from '../../data-access/order.repository';
import { recordOutcome } from '../../domain/record-outcome.use-case';

/** The reply of Invoicing to a `CreateInvoice` command (command style). */
export const invoiceCreatedHandler =
  (orders: OrderRepository): MessageHandler<'InvoiceCreated'> =>
  async (message) => {
    const { payload } = message;
    const result = await recordOutcome(orders.for(message), payload.orderId, {
      kind: 'invoice-known',
      invoiceId: payload.invoiceId,
    });
    message.logger.info(
      { outcome: result.outcome, status: result.status },
      result.outcome === 'ignored'
        ? 'InvoiceCreated for a finished order ignored'
        : 'invoice reply recorded',
    );
    return result.outcome === 'duplicate' ? 'duplicate' : 'processed';
  };
