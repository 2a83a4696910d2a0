import type { MessageHandler } from '@app/messaging';
import type { StatisticsRepository } from '../../data-access/statistics.repository';
import { countOrder } from '../../domain/count-order.use-case';

export const newOrderHandler =
  (statistics: StatisticsRepository, queue: string): MessageHandler<'NewOrder'> =>
  ({ envelope, payload }) =>
    countOrder(statistics, queue, envelope, payload);
