import { requireReplyTo, type MessageHandler } from '@app/messaging';
import { prepareShipment, type PrepareShipmentDeps } from '../../domain/prepare-shipment.use-case';

/** Command style: Order tells Shipping to ship, and waits for the reply. */
export const shipOrderHandler =
  (deps: PrepareShipmentDeps, queue: string): MessageHandler<'ShipOrder'> =>
  async ({ envelope, payload, logger }) => {
    requireReplyTo(envelope, 'ShipmentCreated');
    const outcome = await prepareShipment(deps, queue, envelope, payload, { style: 'command' });
    logger.info(
      { outcome },
      outcome === 'processed' ? 'shipment created on command' : 'shipment already created',
    );
    return outcome;
  };
