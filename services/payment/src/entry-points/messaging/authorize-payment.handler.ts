import { requireReplyTo, type MessageHandler } from '@app/broker';
import type { PaymentRepository } from '../../data-access/payment.repository';
import { authorizePayment } from '../../domain/authorize-payment.use-case';

/** Command style: Order asks Payment to authorize, and waits for the reply. */
export const authorizePaymentHandler =
  (payments: PaymentRepository): MessageHandler<'AuthorizePayment'> =>
  async (message) => {
    requireReplyTo(message.envelope, 'PaymentAuthorized');
    const outcome = await authorizePayment(payments.for(message), message.payload, 'command');
    message.logger.info(
      { outcome },
      outcome === 'processed' ? 'payment decided on command' : 'payment already decided',
    );
    return outcome;
  };
