import type { MessageHandler } from '@app/broker';
import type { PaymentRepository } from '../../data-access/payment.repository';
import { authorizePayment } from '../../domain/authorize-payment.use-case';

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
