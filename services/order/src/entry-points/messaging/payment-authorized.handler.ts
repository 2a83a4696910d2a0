import type { MessageHandler } from '@app/broker';
import type { OrderRepository } from '../../data-access/order.repository';
import { recordOutcome } from '../../domain/record-outcome.use-case';

/** The reply of Payment to `AuthorizePayment` (command style): now invoice and ship. */
export const paymentAuthorizedHandler =
  (orders: OrderRepository): MessageHandler<'PaymentAuthorized'> =>
  async (message) => {
    const { payload } = message;
    const result = await recordOutcome(orders.for(message), payload.orderId, {
      kind: 'payment-authorized',
      paymentId: payload.paymentId,
    });
    message.logger.info(
      { outcome: result.outcome, status: result.status },
      result.outcome === 'ignored'
        ? 'PaymentAuthorized for a finished order ignored'
        : 'payment authorized',
    );
    return result.outcome === 'duplicate' ? 'duplicate' : 'processed';
  };
