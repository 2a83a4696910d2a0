import type { MessageHandler } from '@app/broker';
import type { ShipmentRepository } from '../../data-access/shipment.repository';
import { cancelShipment } from '../../domain/cancel-shipment.use-case';

const said = {
  cancelled: 'shipment cancelled',
  'no-shipment-yet': 'order cancelled before its shipment: none will be prepared',
  'already-cancelled': 'order already cancelled: nothing changed',
  duplicate: 'cancellation already handled',
} as const;

/** Event style: compensation. Order cancelled an order, so its shipment is cancelled. */
export const orderCancelledHandler =
  (shipments: ShipmentRepository): MessageHandler<'OrderCancelled'> =>
  async (message) => {
    const outcome = await cancelShipment(shipments.for(message), message.payload);
    message.logger.info({ outcome, reason: message.payload.reason }, said[outcome]);
    return outcome === 'cancelled' || outcome === 'no-shipment-yet' ? 'processed' : 'duplicate';
  };
