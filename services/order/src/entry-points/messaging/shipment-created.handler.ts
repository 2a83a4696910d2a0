import type { MessageHandler } from '@app/broker';
import type { OrderRepository } from '../../data-access/order.repository';
import { recordShipment } from '../../domain/record-outcome.use-case';

/** The reply of Shipping to a `ShipOrder` command (command style). */
export const shipmentCreatedHandler =
  (orders: OrderRepository): MessageHandler<'ShipmentCreated'> =>
  async (message) => {
    const result = await recordShipment(orders.for(message), message.payload);
    message.logger.info(
      { outcome: result.outcome, status: result.status },
      'shipment reply recorded',
    );
    return result.outcome;
  };
