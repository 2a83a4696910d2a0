import type { MessageHandler } from '@app/broker';
import type { OrderRepository } from '../../data-access/order.repository';
import { recordOutcome } from '../../domain/record-outcome.use-case';

/** Event style: Payment declined; cancel and announce OrderCancelled for compensation. */
export const authorizationDeclinedHandler =
  (orders: OrderRepository): MessageHandler<'AuthorizationDeclined'> =>
  async (message) => {
    const { payload } = message;
    const result = await recordOutcome(orders.for(message), payload.orderId, {
      kind: 'payment-declined',
      reason: payload.reason,
    });
    message.logger.info(
      { outcome: result.outcome, status: result.status },
      result.outcome === 'ignored'
        ? 'AuthorizationDeclined for a finished order ignored'
        : 'order cancelled: payment declined',
    );
    return result.outcome === 'duplicate' ? 'duplicate' : 'processed';
  };
