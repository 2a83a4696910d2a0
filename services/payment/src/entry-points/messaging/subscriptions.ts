import { on, type Subscription } from '@app/broker';
import { Queues } from '@app/contracts';
import type { PaymentRepository } from '../../data-access/payment.repository';
import { authorizePaymentBatchHandler, authorizePaymentHandler } from './authorize-payment.handler';
import { newOrderBatchHandler, newOrderHandler } from './new-order.handler';

/** Everything the Payment service consumes, and where. */
export function subscriptions(payments: PaymentRepository): Subscription[] {
  return [
    // Event style: Payment subscribes to Order's announcement.
    {
      queue: Queues.paymentNewOrder.name,
      handlers: [on('NewOrder', newOrderHandler(payments), newOrderBatchHandler(payments))],
    },
    // Command style: Payment's own command queue, which Order addresses.
    {
      queue: Queues.paymentCommands.name,
      handlers: [
        on(
          'AuthorizePayment',
          authorizePaymentHandler(payments),
          authorizePaymentBatchHandler(payments),
        ),
      ],
    },
  ];
}
