import type { HandlerOutcome } from '@app/messaging';
import type { OrderRepository } from '../data-access/order.repository';
import { statusAfterOutcome, type OrderStatus } from './order';

export interface MessageRef {
  consumer: string;
  messageId: string;
  type: string;
}

export interface RecordResult {
  outcome: HandlerOutcome;
  /** The order's status afterwards; unknown for a duplicate. */
  status?: OrderStatus;
}

/** Records that the order's invoice exists; the order completes once its shipment does too. */
export async function recordInvoice(
  orders: OrderRepository,
  message: MessageRef,
  outcome: { orderId: string; invoiceId: string },
): Promise<RecordResult> {
  const result = await orders.applyOnce(message, outcome.orderId, (order) => {
    const invoiceId = order.invoiceId ?? outcome.invoiceId;
    return { invoiceId, status: statusAfterOutcome({ ...order, invoiceId }) };
  });
  return result.outcome === 'processed'
    ? { outcome: 'processed', status: result.order.status }
    : { outcome: 'duplicate' };
}

/** Records that the order's shipment exists; the order completes once its invoice does too. */
export async function recordShipment(
  orders: OrderRepository,
  message: MessageRef,
  outcome: { orderId: string; shipmentId: string },
): Promise<RecordResult> {
  const result = await orders.applyOnce(message, outcome.orderId, (order) => {
    const shipmentId = order.shipmentId ?? outcome.shipmentId;
    return { shipmentId, status: statusAfterOutcome({ ...order, shipmentId }) };
  });
  return result.outcome === 'processed'
    ? { outcome: 'processed', status: result.order.status }
    : { outcome: 'duplicate' };
}

/**
 * Records that a command of the order could not be delivered (no queue was bound for it:
 * its recipient is not deployed). The order fails with the reason; outcomes that still
 * arrive for it later leave it failed.
 */
export async function recordUndeliverable(
  orders: OrderRepository,
  orderId: string,
  reason: string,
): Promise<void> {
  await orders.markFailed(orderId, reason);
}
