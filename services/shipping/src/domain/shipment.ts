import type { LineItem, ShippingAddress } from '@app/contracts';

export interface Shipment {
  id: string;
  orderId: string;
  items: LineItem[];
  shippingAddress: ShippingAddress;
  /** CANCELLED once its order is cancelled (OrderCancelled, event style). */
  status: 'PREPARED' | 'CANCELLED';
  createdAt: Date;
}
