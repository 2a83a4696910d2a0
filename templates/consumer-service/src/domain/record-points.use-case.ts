import type { NewOrder } from '@app/contracts';
import { orderPointsOf, type OrderPoints } from './points';

/** `duplicate` when the order was recorded before and nothing changed now. */
export type Outcome = 'processed' | 'duplicate';

/** The points ledger, as the message being handled sees it (see PointsRepository.for). */
export interface PointsLedger {
  /** Records an order's points, at most once per order and per message. */
  recordOnce(points: OrderPoints): Promise<Outcome>;
}

/** Records the points of a placed order, once, however often its `NewOrder` arrives. */
export function recordPoints(ledger: PointsLedger, order: NewOrder): Promise<Outcome> {
  return ledger.recordOnce(orderPointsOf(order));
}
