import type { MessageHandler } from '@app/broker';
import type { StatisticsRepository } from '../../data-access/statistics.repository';
import { countOrder } from '../../domain/count-order.use-case';

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
