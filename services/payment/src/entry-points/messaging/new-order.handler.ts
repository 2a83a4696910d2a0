import type { BatchHandler, MessageHandler } from '@app/broker';
import type { PaymentRepository } from '../../data-access/payment.repository';
import { authorizePayment, authorizePayments } from '../../domain/authorize-payment.use-case';

/** Event style: Payment decides on its own to authorize every new order, and announces it. */
export const newOrderHandler =
  (payments: PaymentRepository): MessageHandler<'NewOrder'> =>
  async (message) => {
    const { orderId, totalCents, currency, payment } = message.payload;
    const outcome = await authorizePayment(
      payments.for(message),
      { orderId, amountCents: totalCents, currency, cardToken: payment?.cardToken },
      'event',
    );
    message.logger.info(
      { outcome },
      outcome === 'processed' ? 'payment decided' : 'payment already decided',
    );
    return outcome;
  };

/** The same for NewOrders that arrived together: their payments in one transaction. */
export const newOrderBatchHandler =
  (payments: PaymentRepository): BatchHandler<'NewOrder'> =>
  async (messages) => {
    const outcomes = await authorizePayments(
      payments.forBatch(messages),
      messages.map(({ payload: { orderId, totalCents, currency, payment } }) => ({
        orderId,
        amountCents: totalCents,
        currency,
        cardToken: payment?.cardToken,
      })),
      'event',
    );
    return outcomes.map((outcome, index) => {
      messages[index]?.logger.info(
        { outcome },
        outcome === 'processed' ? 'payment decided' : 'payment already decided',
      );
      return outcome;
    });
  };
