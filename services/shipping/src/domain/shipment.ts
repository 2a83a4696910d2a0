import type { LineItem, ShippingAddress } from '@app/contracts';

export interface Shipment {
  id: string;
  orderId: string;
  items: LineItem[];
  shippingAddress: ShippingAddress;
  status: 'PREPARED';
  createdAt: Date;
}
