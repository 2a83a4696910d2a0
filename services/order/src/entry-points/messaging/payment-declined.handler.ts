import type { MessageHandler } from '@app/broker';
import type { OrderRepository } from '../../data-access/order.repository';
import { recordOutcome } from '../../domain/record-outcome.use-case';

/** The reply of Payment to `AuthorizePayment` (command style): cancel; nothing else acted yet. */
export const paymentDeclinedHandler =
  (orders: OrderRepository): MessageHandler<'PaymentDeclined'> =>
  async (message) => {
    const { payload } = message;
    const result = await recordOutcome(orders.for(message), payload.orderId, {
      kind: 'payment-declined',
      reason: payload.reason,
    });
    message.logger.info(
      { outcome: result.outcome, status: result.status },
      result.outcome === 'ignored'
        ? 'PaymentDeclined for a finished order ignored'
        : 'order cancelled: payment declined',
    );
    return result.outcome === 'duplicate' ? 'duplicate' : 'processed';
  };
