import type { MessageHandler } from '@app/messaging';
import type { OrderRepository } from '../../data-access/order.repository';
import { recordShipment } from '../../domain/record-outcome.use-case';

/** The reply of Shipping to a `ShipOrder` command (command style). */
export const shipmentCreatedHandler =
  (orders: OrderRepository, queue: string): MessageHandler<'ShipmentCreated'> =>
  async ({ envelope, payload, logger }) => {
    const result = await recordShipment(
      orders,
      { consumer: queue, messageId: envelope.messageId, type: envelope.type },
      payload,
    );
    logger.info({ outcome: result.outcome, status: result.status }, 'shipment reply recorded');
    return result.outcome;
  };
