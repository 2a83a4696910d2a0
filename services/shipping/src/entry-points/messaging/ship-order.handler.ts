import { requireReplyTo, type BatchHandler, type MessageHandler } from '@app/broker';
import type { ShipmentRepository } from '../../data-access/shipment.repository';
import { prepareShipment, prepareShipments } from '../../domain/prepare-shipment.use-case';

const said = {
  processed: 'shipment created on command',
  duplicate: 'shipment already created',
  // Order sends no command for a cancelled order; this says so if one ever came.
  'order-cancelled': 'order cancelled: no shipment created, no reply',
} as const;

/** Command style: Order tells Shipping to ship, and waits for the reply. */
export const shipOrderHandler =
  (shipments: ShipmentRepository): MessageHandler<'ShipOrder'> =>
  async (message) => {
    requireReplyTo(message.envelope, 'ShipmentCreated');
    const outcome = await prepareShipment(shipments.for(message), message.payload, 'command');
    message.logger.info({ outcome }, said[outcome]);
    return outcome === 'duplicate' ? 'duplicate' : 'processed';
  };

/** The same for commands that arrived together: their shipments in one transaction. */
export const shipOrderBatchHandler =
  (shipments: ShipmentRepository): BatchHandler<'ShipOrder'> =>
  async (messages) => {
    for (const message of messages) requireReplyTo(message.envelope, 'ShipmentCreated');
    const outcomes = await prepareShipments(
      shipments.forBatch(messages),
      messages.map((message) => message.payload),
      'command',
    );
    return outcomes.map((outcome, index) => {
      messages[index]?.logger.info({ outcome }, said[outcome]);
      return outcome === 'duplicate' ? 'duplicate' : 'processed';
    });
  };
