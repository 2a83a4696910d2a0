import type { OrderRepository } from '../../data-access/order.repository';
import { outcomeHandlers } from './outcome-handlers';

/** The reply of Shipping to a `ShipOrder` command (command style). */
export const shipmentCreatedHandler = (orders: OrderRepository) =>
  outcomeHandlers(
    orders,
    'ShipmentCreated',
    'shipment reply recorded',
    ({ orderId, shipmentId }) => ({
      orderId,
      event: { kind: 'shipment-known', shipmentId },
    }),
  );
