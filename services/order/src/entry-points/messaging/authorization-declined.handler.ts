import type { OrderRepository } from '../../data-access/order.repository';
import { outcomeHandlers } from './outcome-handlers';

/** Event style: Payment declined; cancel and announce OrderCancelled for compensation. */
export const authorizationDeclinedHandler = (orders: OrderRepository) =>
  outcomeHandlers(
    orders,
    'AuthorizationDeclined',
    'order cancelled: payment declined',
    ({ orderId, reason }) => ({
      orderId,
      event: { kind: 'payment-declined', reason },
    }),
  );
