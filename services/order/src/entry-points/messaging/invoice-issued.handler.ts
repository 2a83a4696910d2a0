import type { MessageHandler } from '@app/broker';
import type { OrderRepository } from '../../data-access/order.repository';
import { recordOutcome } from '../../domain/record-outcome.use-case';

/** Event style: Invoicing announced the invoice of an order. */
export const invoiceIssuedHandler =
  (orders: OrderRepository): MessageHandler<'InvoiceIssued'> =>
  async (message) => {
    const { payload } = message;
    const result = await recordOutcome(orders.for(message), payload.orderId, {
      kind: 'invoice-known',
      invoiceId: payload.invoiceId,
    });
    message.logger.info(
      { outcome: result.outcome, status: result.status },
      result.outcome === 'ignored'
        ? 'InvoiceIssued for a finished order ignored'
        : 'invoice recorded',
    );
    return result.outcome === 'duplicate' ? 'duplicate' : 'processed';
  };
