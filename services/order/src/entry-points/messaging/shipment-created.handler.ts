import type { MessageHandler } from '@app/broker';
import type { OrderRepository } from '../../data-access/order.repository';
import { recordOutcome } from '../../domain/record-outcome.use-case';

/** The reply of Shipping to a `ShipOrder` command (command style). */
export const shipmentCreatedHandler =
  (orders: OrderRepository): MessageHandler<'ShipmentCreated'> =>
  async (message) => {
    const { payload } = message;
    const result = await recordOutcome(orders.for(message), payload.orderId, {
      kind: 'shipment-known',
      shipmentId: payload.shipmentId,
    });
    message.logger.info(
      { outcome: result.outcome, status: result.status },
      result.outcome === 'ignored'
        ? 'ShipmentCreated for a finished order ignored'
        : 'shipment reply recorded',
    );
    return result.outcome === 'duplicate' ? 'duplicate' : 'processed';
  };
