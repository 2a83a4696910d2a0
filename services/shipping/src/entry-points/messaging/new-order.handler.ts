import type { MessageHandler } from '@app/broker';
import type { ShipmentRepository } from '../../data-access/shipment.repository';
import { prepareShipment } from '../../domain/prepare-shipment.use-case';

/** Event style: Shipping decides on its own to ship every new order. */
export const newOrderHandler =
  (shipments: ShipmentRepository): MessageHandler<'NewOrder'> =>
  async (message) => {
    const outcome = await prepareShipment(shipments.for(message), message.payload, 'event');
    message.logger.info(
      { outcome },
      outcome === 'processed' ? 'shipment prepared' : 'shipment already prepared',
    );
    return outcome;
  };
