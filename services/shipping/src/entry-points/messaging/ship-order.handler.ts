import { requireReplyTo, type MessageHandler } from '@app/broker';
import type { ShipmentRepository } from '../../data-access/shipment.repository';
import { prepareShipment } from '../../domain/prepare-shipment.use-case';

/** Command style: Order tells Shipping to ship, and waits for the reply. */
export const shipOrderHandler =
  (shipments: ShipmentRepository): MessageHandler<'ShipOrder'> =>
  async (message) => {
    requireReplyTo(message.envelope, 'ShipmentCreated');
    const outcome = await prepareShipment(shipments.for(message), message.payload, 'command');
    message.logger.info(
      { outcome },
      outcome === 'processed' ? 'shipment created on command' : 'shipment already created',
    );
    return outcome;
  };
