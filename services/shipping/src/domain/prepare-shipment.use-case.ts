import { randomUUID } from 'node:crypto';
import {
  say,
  type LineItem,
  type MessageIntent,
  type MessagingStyle,
  type ShippingAddress,
} from '@app/contracts';
import type { Shipment } from './shipment';

export interface PrepareShipmentRequest {
  orderId: string;
  items: LineItem[];
  shippingAddress: ShippingAddress;
}

/**
 * `duplicate` when the request was handled before and changed nothing now;
 * `order-cancelled` when the order was cancelled before it arrived, so nothing is shipped.
 */
export type Outcome = 'processed' | 'duplicate' | 'order-cancelled';

/** The shipments, as the request being handled sees them (see ShipmentRepository.for). */
export interface Shipments {
  /**
   * Stores `shipment` unless its order has one already or was cancelled, with the messages
   * `answer` decides on, in one transaction and at most once per request.
   */
  prepareOnce(
    shipment: Shipment,
    answer: (shipment: Shipment, created: boolean) => MessageIntent[],
  ): Promise<Outcome>;
}

/** The shipments, as a batch of requests handled together sees them (see ShipmentRepository.forBatch). */
export interface ShipmentBatch {
  /** `prepareOnce` for each shipment, the i-th for the batch's i-th request, in one transaction where it can. */
  prepareEachOnce(
    shipments: Shipment[],
    answer: (shipment: Shipment, created: boolean) => MessageIntent[],
  ): Promise<Outcome[]>;
}

/**
 * Prepares the shipment of an order, at most once per order however often the request
 * arrives, and answers in the same transaction. Event style: announce `ShipmentPrepared`.
 * Command style: reply `ShipmentCreated`, again with the first shipment if the command is
 * repeated.
 */
export function prepareShipment(
  shipments: Shipments,
  request: PrepareShipmentRequest,
  style: MessagingStyle,
): Promise<Outcome> {
  return shipments.prepareOnce(shipmentFor(request), answerIn(style));
}

/** `prepareShipment` for several requests at once (a batch of deliveries): outcomes in their order. */
export function prepareShipments(
  shipments: ShipmentBatch,
  requests: PrepareShipmentRequest[],
  style: MessagingStyle,
): Promise<Outcome[]> {
  return shipments.prepareEachOnce(requests.map(shipmentFor), answerIn(style));
}

function shipmentFor(request: PrepareShipmentRequest): Shipment {
  return {
    id: randomUUID(),
    orderId: request.orderId,
    items: request.items,
    shippingAddress: request.shippingAddress,
    status: 'PREPARED',
    createdAt: new Date(),
  };
}

function answerIn(style: MessagingStyle) {
  return (prepared: Shipment, created: boolean): MessageIntent[] => {
    if (style === 'command') {
      return [say('ShipmentCreated', { shipmentId: prepared.id, orderId: prepared.orderId })];
    }
    if (!created) return [];
    return [
      say('ShipmentPrepared', {
        shipmentId: prepared.id,
        orderId: prepared.orderId,
        preparedAt: prepared.createdAt.toISOString(),
      }),
    ];
  };
}
