import type { HandlerOutcome } from '@app/messaging';
import type { OrderRepository } from '../data-access/order.repository';
import { statusAfterOutcome } from './order';

export interface MessageRef {
  consumer: string;
  messageId: string;
  type: string;
}

/** Records that the order's invoice exists; the order completes once its shipment does too. */
export async function recordInvoice(
  orders: OrderRepository,
  message: MessageRef,
  outcome: { orderId: string; invoiceId: string },
): Promise<HandlerOutcome> {
  const result = await orders.applyOnce(message, outcome.orderId, (order) => {
    const invoiceId = order.invoiceId ?? outcome.invoiceId;
    return { invoiceId, status: statusAfterOutcome({ ...order, invoiceId }) };
  });
  return result.outcome;
}

/** Records that the order's shipment exists; the order completes once its invoice does too. */
export async function recordShipment(
  orders: OrderRepository,
  message: MessageRef,
  outcome: { orderId: string; shipmentId: string },
): Promise<HandlerOutcome> {
  const result = await orders.applyOnce(message, outcome.orderId, (order) => {
    const shipmentId = order.shipmentId ?? outcome.shipmentId;
    return { shipmentId, status: statusAfterOutcome({ ...order, shipmentId }) };
  });
  return result.outcome;
}
