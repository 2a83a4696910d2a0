import { statusAfterOutcome, type Order, type OrderChange, type OrderStatus } from './order';

/** `duplicate` when the message was handled before and changed nothing now. */
export type Outcome = 'processed' | 'duplicate';

/** The orders, as the message being handled sees them (see OrderRepository.for). */
export interface OrderSaga {
  /**
   * Applies `decide`'s change to the order at most once per message, only if the order is
   * still as `decide` saw it (it reads again otherwise). Resolves to the order afterwards.
   */
  applyOnce(
    orderId: string,
    decide: (order: Order) => OrderChange,
  ): Promise<{ outcome: 'processed'; order: Order } | { outcome: 'duplicate' }>;
}

export interface RecordResult {
  outcome: Outcome;
  /** The order's status afterwards; unknown for a duplicate. */
  status?: OrderStatus;
}

/** Records that the order's invoice exists; the order completes once its shipment does too. */
export async function recordInvoice(
  orders: OrderSaga,
  outcome: { orderId: string; invoiceId: string },
): Promise<RecordResult> {
  return resultOf(
    await orders.applyOnce(outcome.orderId, (order) => {
      const invoiceId = order.invoiceId ?? outcome.invoiceId;
      return { invoiceId, status: statusAfterOutcome({ ...order, invoiceId }) };
    }),
  );
}

/** Records that the order's shipment exists; the order completes once its invoice does too. */
export async function recordShipment(
  orders: OrderSaga,
  outcome: { orderId: string; shipmentId: string },
): Promise<RecordResult> {
  return resultOf(
    await orders.applyOnce(outcome.orderId, (order) => {
      const shipmentId = order.shipmentId ?? outcome.shipmentId;
      return { shipmentId, status: statusAfterOutcome({ ...order, shipmentId }) };
    }),
  );
}

function resultOf(
  result: { outcome: 'processed'; order: Order } | { outcome: 'duplicate' },
): RecordResult {
  return result.outcome === 'processed'
    ? { outcome: 'processed', status: result.order.status }
    : { outcome: 'duplicate' };
}

/** Marks orders FAILED with the reason; the first reason recorded is kept. */
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
