import type { MessageHandler } from '@app/messaging';
import type { OrderRepository } from '../../data-access/order.repository';
import { recordShipment } from '../../domain/record-outcome.use-case';

export const shipmentPreparedHandler =
  (orders: OrderRepository, queue: string): MessageHandler<'ShipmentPrepared'> =>
  async ({ envelope, payload, logger }) => {
    const result = await recordShipment(
      orders,
      { consumer: queue, messageId: envelope.messageId, type: envelope.type },
      payload,
    );
    logger.info({ outcome: result.outcome, status: result.status }, 'shipment recorded');
    return result.outcome;
  };
