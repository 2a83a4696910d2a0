import { OrderHistory, on, type Subscription } from '@app/broker';
import { Queues } from '@app/contracts';
import type { PointsRepository } from '../../data-access/points.repository';
import { newOrderHandler } from './new-order.handler';

/**
 * Everything the __Name__ service consumes, and where. Order does not know this list
 * exists: subscribing to its `NewOrder` event needed no change there. With `backfill`, the
 * queue first catches up from Order's event history, so orders placed before __Name__ was
 * deployed are recorded too (docs/backfill.md).
 */
export function subscriptions(
  points: PointsRepository,
  { backfill = true }: { backfill?: boolean } = {},
): Subscription[] {
  return [
    {
      queue: Queues.__name__NewOrder.name,
      handlers: [on('NewOrder', newOrderHandler(points))],
      ...(backfill ? { backfillFrom: OrderHistory.name } : {}),
    },
  ];
}
