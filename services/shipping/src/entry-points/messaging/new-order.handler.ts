import type { BatchHandler, MessageHandler } from '@app/broker';
import type { ShipmentRepository } from '../../data-access/shipment.repository';
import { prepareShipment, prepareShipments } from '../../domain/prepare-shipment.use-case';

const said = {
  processed: 'shipment prepared',
  duplicate: 'order already handled: nothing prepared now',
  'order-cancelled': 'order cancelled before its NewOrder arrived: no shipment prepared',
} as const;

/** Event style: Shipping decides on its own to ship every new order. */
export const newOrderHandler =
  (shipments: ShipmentRepository): MessageHandler<'NewOrder'> =>
  async (message) => {
    const outcome = await prepareShipment(shipments.for(message), message.payload, 'event');
    message.logger.info({ outcome }, said[outcome]);
    return outcome === 'duplicate' ? 'duplicate' : 'processed';
  };

/** The same for NewOrders that arrived together: their shipments in one transaction. */
export const newOrderBatchHandler =
  (shipments: ShipmentRepository): BatchHandler<'NewOrder'> =>
  async (messages) => {
    const outcomes = await prepareShipments(
      shipments.forBatch(messages),
      messages.map((message) => message.payload),
      'event',
    );
    return outcomes.map((outcome, index) => {
      messages[index]?.logger.info({ outcome }, said[outcome]);
      return outcome === 'duplicate' ? 'duplicate' : 'processed';
    });
  };
