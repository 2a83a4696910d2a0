import { requireReplyTo, type BatchHandler, type MessageHandler } from '@app/broker';
import type { PaymentRepository } from '../../data-access/payment.repository';
import { authorizePayment, authorizePayments } from '../../domain/authorize-payment.use-case';

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

/** The same for commands that arrived together: their payments in one transaction. */
export const authorizePaymentBatchHandler =
  (payments: PaymentRepository): BatchHandler<'AuthorizePayment'> =>
  async (messages) => {
    for (const message of messages) requireReplyTo(message.envelope, 'PaymentAuthorized');
    const outcomes = await authorizePayments(
      payments.forBatch(messages),
      messages.map((message) => message.payload),
      'command',
    );
    return outcomes.map((outcome, index) => {
      messages[index]?.logger.info(
        { outcome },
        outcome === 'processed' ? 'payment decided on command' : 'payment already decided',
      );
      return outcome;
    });
  };
