import type { OrderCancelled } from '@app/contracts';

/**
 * What an `OrderCancelled` did: `voided` the order's issued invoice; `no-invoice-yet`, so
 * the order's NewOrder, if it comes, issues none; `already-cancelled` by an earlier
 * message, so nothing changed; `duplicate`, this very message was handled before.
 */
export type VoidOutcome = 'voided' | 'no-invoice-yet' | 'already-cancelled' | 'duplicate';

/** The cancellations, as the message being handled sees them (see InvoiceRepository.for). */
export interface Cancellations {
  /**
   * Records that the order is cancelled, for good, and voids its issued invoice if it has
   * one, in one transaction and at most once per order and per message.
   */
  cancelOnce(cancellation: OrderCancelled): Promise<VoidOutcome>;
}

/**
 * Compensation in the event style: Order cancelled an order whose payment was declined,
 * so its invoice is voided. It may arrive before the NewOrder it undoes; the cancellation
 * is kept so that NewOrder then issues nothing.
 */
export function voidInvoice(
  cancellations: Cancellations,
  cancellation: OrderCancelled,
): Promise<VoidOutcome> {
  return cancellations.cancelOnce(cancellation);
}
