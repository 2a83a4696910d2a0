import type { OrderRepository } from '../../data-access/order.repository';
import { outcomeHandlers } from './outcome-handlers';

/** The reply of Payment to `AuthorizePayment` (command style): now invoice and ship. */
export const paymentAuthorizedHandler = (orders: OrderRepository) =>
  outcomeHandlers(orders, 'PaymentAuthorized', 'payment authorized', ({ orderId, paymentId }) => ({
    orderId,
    event: { kind: 'payment-authorized', paymentId },
  }));
