import type { MessageHandler } from '@app/broker';
import type { OrderRepository } from '../../data-access/order.repository';
import { recordShipment } from '../../domain/record-outcome.use-case';

/** Event style: Shipping announced the shipment of an order. */
export const shipmentPreparedHandler =
  (orders: OrderRepository): MessageHandler<'ShipmentPrepared'> =>
  async (message) => {
    const result = await recordShipment(orders.for(message), message.payload);
    message.logger.info({ outcome: result.outcome, status: result.status }, 'shipment recorded');
    return result.outcome;
  };
