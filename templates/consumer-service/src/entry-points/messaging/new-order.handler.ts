import type { MessageHandler } from '@app/broker';
import type { PointsRepository } from '../../data-access/points.repository';
import { recordPoints } from '../../domain/record-points.use-case';

export const newOrderHandler =
  (points: PointsRepository): MessageHandler<'NewOrder'> =>
  async (message) => {
    const outcome = await recordPoints(points.for(message), message.payload);
    message.logger.info(
      { outcome },
      outcome === 'processed' ? 'order points recorded' : 'order points already recorded',
    );
    return outcome;
  };
