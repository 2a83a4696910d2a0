import type { MessageHandler } from '@app/messaging';
import { prepareShipment, type PrepareShipmentDeps } from '../../domain/prepare-shipment.use-case';

/** Event style: Shipping decides on its own to ship every new order. */
export const newOrderHandler =
  (deps: PrepareShipmentDeps, queue: string): MessageHandler<'NewOrder'> =>
  async ({ envelope, payload, logger }) => {
    const outcome = await prepareShipment(deps, queue, envelope, payload, { style: 'event' });
    logger.info(
      { outcome },
      outcome === 'processed' ? 'shipment prepared' : 'shipment already prepared',
    );
    return outcome;
  };
