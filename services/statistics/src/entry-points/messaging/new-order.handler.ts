import type { MessageHandler } from '@app/messaging';
import type { StatisticsRepository } from '../../data-access/statistics.repository';
import { countOrder } from '../../domain/count-order.use-case';

export const newOrderHandler =
  (statistics: StatisticsRepository, queue: string): MessageHandler<'NewOrder'> =>
  async ({ envelope, payload, logger }) => {
    const outcome = await countOrder(statistics, queue, envelope, payload);
    logger.info({ outcome }, outcome === 'processed' ? 'order counted' : 'order already counted');
    return outcome;
  };
