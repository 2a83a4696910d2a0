import type { MessageHandler } from '@app/broker';
import type { OrderRepository } from '../../data-access/order.repository';
import { recordOutcome } from '../../domain/record-outcome.use-case';

/** Event style: Shipping announced the shipment of an order. */
export const shipmentPreparedHandler =
  (orders: OrderRepository): MessageHandler<'ShipmentPrepared'> =>
  async (message) => {
    const { payload } = message;
    const result = await recordOutcome(orders.for(message), payload.orderId, {
      kind: 'shipment-known',
      shipmentId: payload.shipmentId,
    });
    message.logger.info(
      { outcome: result.outcome, status: result.status },
      result.outcome === 'ignored'
        ? 'ShipmentPrepared for a finished order ignored'
        : 'shipment recorded',
    );
    return result.outcome === 'duplicate' ? 'duplicate' : 'processed';
  };
