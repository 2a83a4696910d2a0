import { on, type Subscription } from '@app/broker';
import { Queues } from '@app/contracts';
import type { StatisticsRepository } from '../../data-access/statistics.repository';
import { newOrderHandler } from './new-order.handler';
import { orderCancelledHandler } from './order-cancelled.handler';

/**
 * Everything the Statistics service consumes, and where. Order does not know this list
 * exists: subscribing to its `NewOrder` and `OrderCancelled` events needed no change there.
 */
export function subscriptions(statistics: StatisticsRepository): Subscription[] {
  return [
    {
      queue: Queues.statisticsNewOrder.name,
      handlers: [on('NewOrder', newOrderHandler(statistics))],
    },
    // Event style, compensation: Order cancels an order whose payment was declined.
    {
      queue: Queues.statisticsOrderCancelled.name,
      handlers: [on('OrderCancelled', orderCancelledHandler(statistics))],
    },
  ];
}
