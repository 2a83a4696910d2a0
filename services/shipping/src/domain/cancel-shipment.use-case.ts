import type { OrderCancelled } from '@app/contracts';

/**
 * What an `OrderCancelled` did: `cancelled` the order's prepared shipment;
 * `no-shipment-yet`, so the order's NewOrder, if it comes, prepares none;
 * `already-cancelled` by an earlier message, so nothing changed; `duplicate`, this very
 * message was handled before.
 */
export type CancelOutcome = 'cancelled' | 'no-shipment-yet' | 'already-cancelled' | 'duplicate';

/** The cancellations, as the message being handled sees them (see ShipmentRepository.for). */
export interface Cancellations {
  /**
   * Records that the order is cancelled, for good, and cancels its prepared shipment if it
   * has one, in one transaction and at most once per order and per message.
   */
  cancelOnce(cancellation: OrderCancelled): Promise<CancelOutcome>;
}

/**
 * Compensation in the event style: Order cancelled an order whose payment was declined,
 * so its shipment is cancelled. It may arrive before the NewOrder it undoes; the
 * cancellation is kept so that NewOrder then prepares nothing.
 */
export function cancelShipment(
  cancellations: Cancellations,
  cancellation: OrderCancelled,
): Promise<CancelOutcome> {
  return cancellations.cancelOnce(cancellation);
}
