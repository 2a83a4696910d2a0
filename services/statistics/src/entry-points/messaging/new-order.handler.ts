import type { BatchHandler, MessageHandler } from '@app/broker';
import type { StatisticsRepository } from '../../data-access/statistics.repository';
import { countOrder, countOrders } from '../../domain/count-order.use-case';

export const newOrderHandler =
  (statistics: StatisticsRepository): MessageHandler<'NewOrder'> =>
  async (message) => {
    const outcome = await countOrder(statistics.for(message), message.payload);
    message.logger.info(
      { outcome },
      outcome === 'processed'
        ? 'order counted (as cancelled, with no revenue, if it was cancelled before)'
        : 'order already counted',
    );
    return outcome;
  };

/** The same for NewOrders that arrived together: counted in one statement. */
export const newOrderBatchHandler =
  (statistics: StatisticsRepository): BatchHandler<'NewOrder'> =>
  async (messages) => {
    const outcomes = await countOrders(
      statistics.forBatch(messages),
      messages.map((message) => message.payload),
    );
    return outcomes.map((outcome, index) => {
      messages[index]?.logger.info(
        { outcome },
        outcome === 'processed' ? 'order counted' : 'order already counted',
      );
      return outcome;
    });
  };
