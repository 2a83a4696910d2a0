import type { Handlers, IncomingMessage } from '@app/broker';
import type { MessageType, PayloadOf } from '@app/contracts';
import { pairUp } from '@app/runtime';
import type { OrderRepository } from '../../data-access/order.repository';
import type { OrderEvent } from '../../domain/order-saga';
import {
  recordOutcome,
  recordOutcomes,
  type RecordResult,
} from '../../domain/record-outcome.use-case';

/** What an outcome message tells an order's saga: which order, and what happened. */
export interface SagaInput {
  orderId: string;
  event: OrderEvent;
}

/**
 * The handlers of a message that moves an order's saga on (a payment decision, an invoice
 * or shipment known), for one delivery and for a batch: `inputOf` reads the message,
 * `said` is the log line when it was recorded.
 */
export function outcomeHandlers<T extends MessageType>(
  orders: OrderRepository,
  type: T,
  said: string,
  inputOf: (payload: PayloadOf<T>) => SagaInput,
): Handlers<T> {
  const report = (message: IncomingMessage<PayloadOf<T>>, result: RecordResult) => {
    message.logger.info(
      { outcome: result.outcome, status: result.status },
      result.outcome === 'ignored' ? `${type} for a finished order ignored` : said,
    );
    return result.outcome === 'duplicate' ? 'duplicate' : 'processed';
  };
  return {
    handle: async (message) => {
      const { orderId, event } = inputOf(message.payload);
      return report(message, await recordOutcome(orders.for(message), orderId, event));
    },
    handleBatch: async (messages) => {
      const results = await recordOutcomes(
        orders.forBatch(messages),
        messages.map((message) => inputOf(message.payload)),
      );
      return pairUp(messages, results).map(([message, result]) => report(message, result));
    },
  };
}
