import type { OrderCancelled } from '@app/contracts';

/**
 * What an `OrderCancelled` did: `taken-out`, the counted order's revenue and items left
 * the totals and it counts as cancelled; `not-counted-yet`, so its NewOrder, if it comes,
 * counts it as cancelled; `already-cancelled` by an earlier message, so nothing changed;
 * `duplicate`, this very message was handled before.
 */
export type TakeOutOutcome = 'taken-out' | 'not-counted-yet' | 'already-cancelled' | 'duplicate';

/** The cancellations, as the message being handled sees them (see StatisticsRepository.for). */
export interface Cancellations {
  /**
   * Records that the order is cancelled, for good, and takes what it added out of its
   * currency's totals if it was counted, at most once per order and per message.
   */
  cancelOnce(cancellation: OrderCancelled): Promise<TakeOutOutcome>;
}

/**
 * Compensation in the event style: Order cancelled an order whose payment was declined,
 * so its revenue and items leave the totals; it still counts as a placed order. It may
 * arrive before the NewOrder it undoes; the cancellation is kept for that NewOrder.
 */
export function takeOutOrder(
  cancellations: Cancellations,
  cancellation: OrderCancelled,
): Promise<TakeOutOutcome> {
  return cancellations.cancelOnce(cancellation);
}
