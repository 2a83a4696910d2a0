import type { OrderRepository } from '../../data-access/order.repository';
import { outcomeHandlers } from './outcome-handlers';

/** Event style: Payment announced that it authorized the order's payment. */
export const authorizationAcceptedHandler = (orders: OrderRepository) =>
  outcomeHandlers(
    orders,
    'AuthorizationAccepted',
    'payment authorized',
    ({ orderId, paymentId }) => ({
      orderId,
      event: { kind: 'payment-authorized', paymentId },
    }),
  );
