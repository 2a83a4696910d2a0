import { on, type Subscription } from '@app/broker';
import type { PaymentRepository } from '../../data-access/payment.repository';
import { authorizePaymentHandler } from './authorize-payment.handler';
import { newOrderHandler } from './new-order.handler';

/** Everything the Payment service consumes, and where. */
export function subscriptions(payments: PaymentRepository): Subscription[] {
  return [
    // Event style: Payment subscribes to Order's announcement.
    { queue: 'payment.new-order', handlers: [on('NewOrder', newOrderHandler(payments))] },
    // Command style: Payment's own command queue, which Order addresses.
    {
      queue: 'payment.commands',
      handlers: [on('AuthorizePayment', authorizePaymentHandler(payments))],
    },
  ];
}
