import { on, type Subscription } from '@app/broker';
import { Queues } from '@app/contracts';
import type { ShipmentRepository } from '../../data-access/shipment.repository';
import { newOrderBatchHandler, newOrderHandler } from './new-order.handler';
import { orderCancelledHandler } from './order-cancelled.handler';
import { shipOrderBatchHandler, shipOrderHandler } from './ship-order.handler';

/** Everything the Shipping service consumes, and where. */
export function subscriptions(shipments: ShipmentRepository): Subscription[] {
  return [
    // Event style: Shipping subscribes to Order's announcement.
    {
      queue: Queues.shippingNewOrder.name,
      handlers: [on('NewOrder', newOrderHandler(shipments), newOrderBatchHandler(shipments))],
    },
    // Event style, compensation: Order cancels an order whose payment was declined.
    {
      queue: Queues.shippingOrderCancelled.name,
      handlers: [on('OrderCancelled', orderCancelledHandler(shipments))],
    },
    // Command style: Shipping's own command queue, which Order addresses.
    {
      queue: Queues.shippingCommands.name,
      handlers: [on('ShipOrder', shipOrderHandler(shipments), shipOrderBatchHandler(shipments))],
    },
  ];
}
