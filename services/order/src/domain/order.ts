import type { LineItem, MessagingStyle, ShippingAddress } from '@app/contracts';

export type { MessagingStyle };

export const OrderStatuses = ['PLACED', 'INVOICED', 'SHIPPED', 'COMPLETED', 'FAILED'] as const;
export type OrderStatus = (typeof OrderStatuses)[number];

export interface Order {
  id: string;
  status: OrderStatus;
  style: MessagingStyle;
  customerId: string;
  items: LineItem[];
  totalCents: number;
  currency: string;
  shippingAddress: ShippingAddress;
  invoiceId?: string;
  shipmentId?: string;
  failureReason?: string;
  createdAt: Date;
  updatedAt: Date;
}

/** What the saga's state is made of: the fields a transition may change. */
export type OrderChange = Partial<
  Pick<Order, 'status' | 'invoiceId' | 'shipmentId' | 'failureReason'>
>;

export const MAX_TOTAL_CENTS = 2_147_483_647;

export function totalOf(items: LineItem[]): number {
  return items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0);
}

/** An order is complete once both its invoice and its shipment are known. */
export function statusAfterOutcome(
  order: Pick<Order, 'status' | 'invoiceId' | 'shipmentId'>,
): OrderStatus {
  if (order.status === 'FAILED') return 'FAILED';
  if (order.invoiceId && order.shipmentId) return 'COMPLETED';
  if (order.invoiceId) return 'INVOICED';
  if (order.shipmentId) return 'SHIPPED';
  return 'PLACED';
}
