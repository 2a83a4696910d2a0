import type { NewOrder } from '@app/contracts';
import { contributionOf, type Contribution } from './statistics';

/** `duplicate` when the order was counted before and nothing changed now. */
export type Outcome = 'processed' | 'duplicate';

/** The totals, as the message being handled sees them (see StatisticsRepository.for). */
export interface Totals {
  /**
   * Adds one order to its currency's totals, at most once per order and per message; an
   * order cancelled before counts in `orders` and `cancelledOrders` only.
   */
  addOnce(contribution: Contribution): Promise<Outcome>;
}

/** The totals, as a batch of messages handled together sees them (see StatisticsRepository.forBatch). */
export interface TotalsBatch {
  /** `addOnce` for each contribution, the i-th for the batch's i-th message, in one statement where it can. */
  addEachOnce(contributions: Contribution[]): Promise<Outcome[]>;
}

/** `countOrder` for several orders at once (a batch of deliveries): outcomes in their order. */
export function countOrders(totals: TotalsBatch, orders: NewOrder[]): Promise<Outcome[]> {
  return totals.addEachOnce(orders.map(contributionOf));
}

/** Counts a placed order, once, however often its `NewOrder` arrives, and in whatever order with its `OrderCancelled`. */
export function countOrder(totals: Totals, order: NewOrder): Promise<Outcome> {
  return totals.addOnce(contributionOf(order));
}
