import type { OrderRepository } from '../../data-access/order.repository';
import { outcomeHandlers } from './outcome-handlers';

/** The reply of Payment to `AuthorizePayment` (command style): cancel; nothing else acted yet. */
export const paymentDeclinedHandler = (orders: OrderRepository) =>
  outcomeHandlers(
    orders,
    'PaymentDeclined',
    'order cancelled: payment declined',
    ({ orderId, reason }) => ({
      orderId,
      event: { kind: 'payment-declined', reason },
    }),
  );
