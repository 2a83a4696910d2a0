import { randomUUID } from 'node:crypto';
import type { Envelope, LineItem, ShippingAddress } from '@app/contracts';
import { buildMessage, type HandlerOutcome, type OutgoingMessage } from '@app/messaging';
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
 * How the outcome travels back. Event style: announce `ShipmentPrepared` to whoever
 * subscribed. Command style: reply `ShipmentCreated` to the sender of the command.
 */
export type Answer = { style: 'event' } | { style: 'command' };

/**
 * Prepares the shipment of an order, at most once per order however often the request
 * arrives, and answers in the same transaction. A repeated command is answered again
 * with the shipment prepared first.
 */
export async function prepareShipment(
  deps: PrepareShipmentDeps,
  consumer: string,
  cause: Envelope,
  request: PrepareShipmentRequest,
  answer: Answer,
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
    (prepared, created) => answerFor(prepared, created, cause, answer),
  );
  deps.outboxWritten();
  return result.outcome;
}

function answerFor(
  shipment: Shipment,
  created: boolean,
  cause: Envelope,
  answer: Answer,
): OutgoingMessage[] {
  const causation = {
    correlationId: shipment.orderId,
    causationId: cause.messageId,
    traceparent: cause.traceparent,
  };
  if (answer.style === 'command') {
    return [
      buildMessage(
        'ShipmentCreated',
        { shipmentId: shipment.id, orderId: shipment.orderId },
        'shipping',
        causation,
      ),
    ];
  }
  if (!created) return [];
  return [
    buildMessage(
      'ShipmentPrepared',
      {
        shipmentId: shipment.id,
        orderId: shipment.orderId,
        preparedAt: shipment.createdAt.toISOString(),
      },
      'shipping',
      causation,
    ),
  ];
}
