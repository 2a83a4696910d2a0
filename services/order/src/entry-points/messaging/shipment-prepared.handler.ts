import type { OrderRepository } from '../../data-access/order.repository';
import { outcomeHandlers } from './outcome-handlers';

/** Event style: Shipping announced the shipment of an order. */
export const shipmentPreparedHandler = (orders: OrderRepository) =>
  outcomeHandlers(orders, 'ShipmentPrepared', 'shipment recorded', ({ orderId, shipmentId }) => ({
    orderId,
    event: { kind: 'shipment-known', shipmentId },
  }));
