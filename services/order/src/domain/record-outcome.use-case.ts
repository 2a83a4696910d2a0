import { transition, type OrderEvent, type Transition } from './order-saga';
import type { Order, OrderStatus } from './order';

/**
 * `processed`: the order changed; `ignored`: it is terminal and the message changed
 * nothing; `duplicate`: the message was handled before.
 */
export type Outcome = 'processed' | 'ignored' | 'duplicate';

/** The orders, as the message being handled sees them (see OrderRepository.for). */
export interface OrderSaga {
  /**
   * Applies what `decide` returns to the order, with its messages, at most once per
   * message and only if the order is still as `decide` saw it (it reads again otherwise).
   * `ignored` records the message as handled and changes nothing.
   */
  applyOnce(
    orderId: string,
    decide: (order: Order) => Transition | 'ignored',
  ): Promise<{ outcome: Outcome; order?: Order }>;
}

/** The orders, as a batch of messages handled together sees them (see OrderRepository.forBatch). */
export interface OrderSagaBatch {
  /**
   * `applyOnce` for each change, the i-th for the batch's i-th message: the orders read in
   * one query and the changes written in one statement where they can.
   */
  applyEachOnce(
    changes: { orderId: string; decide: (order: Order) => Transition | 'ignored' }[],
  ): Promise<{ outcome: Outcome; order?: Order }[]>;
}

export interface RecordResult {
  outcome: Outcome;
  /** The order's status afterwards, when it changed. */
  status?: OrderStatus;
}

/** Moves the order's saga on by one event: payment decision, invoice or shipment known. */
export async function recordOutcome(
  orders: OrderSaga,
  orderId: string,
  event: OrderEvent,
): Promise<RecordResult> {
  const result = await orders.applyOnce(orderId, (order) => transition(order, event));
  return result.order
    ? { outcome: result.outcome, status: result.order.status }
    : { outcome: result.outcome };
}

/** `recordOutcome` for several messages at once (a batch of deliveries): results in their order. */
export async function recordOutcomes(
  orders: OrderSagaBatch,
  outcomes: { orderId: string; event: OrderEvent }[],
): Promise<RecordResult[]> {
  const results = await orders.applyEachOnce(
    outcomes.map(({ orderId, event }) => ({
      orderId,
      decide: (order: Order) => transition(order, event),
    })),
  );
  return results.map((result) =>
    result.order
      ? { outcome: result.outcome, status: result.order.status }
      : { outcome: result.outcome },
  );
}

/** Marks orders FAILED with the reason, unless they are terminal already. */
export interface FailedOrders {
  markFailed(orderId: string, reason: string): Promise<void>;
}

/**
 * Records that a command of the order could not be delivered (no queue was bound for it:
 * its recipient is not deployed). The order fails with the reason; outcomes that still
 * arrive for it later leave it failed.
 */
export async function recordUndeliverable(
  orders: FailedOrders,
  orderId: string,
  reason: string,
): Promise<void> {
  await orders.markFailed(orderId, reason);
}
