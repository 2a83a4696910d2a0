import { OrderHistory, on, type Subscription } from '@app/broker';
import { Queues } from '@app/contracts';
import type { StatisticsRepository } from '../../data-access/statistics.repository';
import { newOrderBatchHandler, newOrderHandler } from './new-order.handler';
import { orderCancelledHandler } from './order-cancelled.handler';

/**
 * Everything the Statistics service consumes, and where. Order does not know this list
 * exists: subscribing to its `NewOrder` and `OrderCancelled` events needed no change there.
 * With `backfill`, each queue first catches up from Order's event history, so orders placed
 * before Statistics was deployed are counted too (docs/backfill.md).
 */
export function subscriptions(
  statistics: StatisticsRepository,
  { backfill = false }: { backfill?: boolean } = {},
): Subscription[] {
  const history = backfill ? { backfillFrom: OrderHistory.name } : {};
  return [
    {
      queue: Queues.statisticsNewOrder.name,
      handlers: [on('NewOrder', newOrderHandler(statistics), newOrderBatchHandler(statistics))],
      ...history,
    },
    // Event style, compensation: Order cancels an order whose payment was declined.
    {
      queue: Queues.statisticsOrderCancelled.name,
      handlers: [on('OrderCancelled', orderCancelledHandler(statistics))],
      ...history,
    },
  ];
}
