import type { LineItem, MessagingStyle, ShippingAddress } from '@app/contracts';

export type { MessagingStyle };

/**
 * PLACED, then as the payment decision, invoice and shipment become known: AUTHORIZED
 * (payment only), INVOICED or SHIPPED (one of them), AWAITING_PAYMENT (both, no payment
 * decision yet), COMPLETED (all three). Terminal: COMPLETED, CANCELLED (payment declined),
 * FAILED (a command could not be delivered).
 */
export const OrderStatuses = [
  'PLACED',
  'AUTHORIZED',
  'INVOICED',
  'SHIPPED',
  'AWAITING_PAYMENT',
  'COMPLETED',
  'CANCELLED',
  'FAILED',
] as const;
export type OrderStatus = (typeof OrderStatuses)[number];

export const TerminalStatuses: ReadonlySet<OrderStatus> = new Set([
  'COMPLETED',
  'CANCELLED',
  'FAILED',
]);

export interface Order {
  id: string;
  status: OrderStatus;
  style: MessagingStyle;
  customerId: string;
  items: LineItem[];
  totalCents: number;
  currency: string;
  shippingAddress: ShippingAddress;
  paymentId?: string;
  invoiceId?: string;
  shipmentId?: string;
  failureReason?: string;
  cancellationReason?: string;
  createdAt: Date;
  updatedAt: Date;
}

/** The fields of the saga's state that a transition may change. */
export type OrderChange = Partial<
  Pick<
    Order,
    'status' | 'paymentId' | 'invoiceId' | 'shipmentId' | 'failureReason' | 'cancellationReason'
  >
>;

export const MAX_TOTAL_CENTS = 2_147_483_647;

export function totalOf(items: LineItem[]): number {
  return items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0);
}

/**
 * The status that follows from what is known. Terminal statuses are kept; an order is
 * COMPLETED only when its payment is authorized and its invoice and shipment exist.
 */
export function statusAfterOutcome(
  order: Pick<Order, 'status' | 'paymentId' | 'invoiceId' | 'shipmentId'>,
): OrderStatus {
  if (TerminalStatuses.has(order.status)) return order.status;
  const { paymentId, invoiceId, shipmentId } = order;
  if (paymentId && invoiceId && shipmentId) return 'COMPLETED';
  if (invoiceId && shipmentId) return 'AWAITING_PAYMENT';
  if (invoiceId) return 'INVOICED';
  if (shipmentId) return 'SHIPPED';
  if (paymentId) return 'AUTHORIZED';
  return 'PLACED';
}
