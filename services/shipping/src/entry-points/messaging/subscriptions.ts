import { on, type Subscription } from '@app/messaging';
import type { PrepareShipmentDeps } from '../../domain/prepare-shipment.use-case';
import { newOrderHandler } from './new-order.handler';

/** Everything the Shipping service consumes, and where. */
export function subscriptions(deps: PrepareShipmentDeps): Subscription[] {
  return [
    {
      queue: 'shipping.new-order',
      handlers: [on('NewOrder', newOrderHandler(deps, 'shipping.new-order'))],
    },
  ];
}
