import type { MessageHandler } from '@app/messaging';
import { prepareShipment, type PrepareShipmentDeps } from '../../domain/prepare-shipment.use-case';

export const newOrderHandler =
  (deps: PrepareShipmentDeps, queue: string): MessageHandler<'NewOrder'> =>
  ({ envelope, payload }) =>
    prepareShipment(deps, queue, envelope, payload);
