import { on, type Subscription } from '@app/messaging';
import type { PrepareShipmentDeps } from '../../domain/prepare-shipment.use-case';
import { newOrderHandler } from './new-order.handler';
import { shipOrderHandler } from './ship-order.handler';

/** Everything the Shipping service consumes, and where. */
export function subscriptions(deps: PrepareShipmentDeps): Subscription[] {
  return [
    // Event style: Shipping subscribes to Order's announcement.
    {
      queue: 'shipping.new-order',
      handlers: [on('NewOrder', newOrderHandler(deps, 'shipping.new-order'))],
    },
    // Command style: Shipping's own command queue, which Order addresses.
    {
      queue: 'shipping.commands',
      handlers: [on('ShipOrder', shipOrderHandler(deps, 'shipping.commands'))],
    },
  ];
}
