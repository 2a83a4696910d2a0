import { randomUUID } from 'node:crypto';
import type { Envelope, LineItem, ShippingAddress } from '@app/contracts';
import { buildMessage, type HandlerOutcome } from '@app/messaging';
import type { ShipmentRepository } from '../data-access/shipment.repository';
import type { Shipment } from './shipment';

export interface PrepareShipmentRequest {
  orderId: string;
  items: LineItem[];
  shippingAddress: ShippingAddress;
}

export interface PrepareShipmentDeps {
  shipments: ShipmentRepository;
  outboxWritten: () => void;
}

/**
 * Prepares the shipment of an order and announces it with `ShipmentPrepared`, in the
 * same transaction, at most once per order however often the request arrives.
 */
export async function prepareShipment(
  deps: PrepareShipmentDeps,
  consumer: string,
  cause: Envelope,
  request: PrepareShipmentRequest,
): Promise<HandlerOutcome> {
  const shipment: Shipment = {
    id: randomUUID(),
    orderId: request.orderId,
    items: request.items,
    shippingAddress: request.shippingAddress,
    status: 'PREPARED',
    createdAt: new Date(),
  };
  const result = await deps.shipments.prepareOnce(
    { consumer, messageId: cause.messageId, type: cause.type },
    shipment,
    (prepared) => [
      buildMessage(
        'ShipmentPrepared',
        {
          shipmentId: prepared.id,
          orderId: prepared.orderId,
          preparedAt: prepared.createdAt.toISOString(),
        },
        'shipping',
        {
          correlationId: prepared.orderId,
          causationId: cause.messageId,
          traceparent: cause.traceparent,
        },
      ),
    ],
  );
  if (result.outcome === 'processed') deps.outboxWritten();
  return result.outcome;
}
