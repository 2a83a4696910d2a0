import type { MessageHandler } from '@app/broker';
import type { OrderRepository } from '../../data-access/order.repository';
import { recordOutcome } from '../../domain/record-outcome.use-case';

/** Event style: Payment announced that it authorized the order's payment. */
export const authorizationAcceptedHandler =
  (orders: OrderRepository): MessageHandler<'AuthorizationAccepted'> =>
  async (message) => {
    const { payload } = message;
    const result = await recordOutcome(orders.for(message), payload.orderId, {
      kind: 'payment-authorized',
      paymentId: payload.paymentId,
    });
    message.logger.info(
      { outcome: result.outcome, status: result.status },
      result.outcome === 'ignored'
        ? 'AuthorizationAccepted for a finished order ignored'
        : 'payment authorized',
    );
    return result.outcome === 'duplicate' ? 'duplicate' : 'processed';
  };
