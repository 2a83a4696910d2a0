export interface Invoice {
  id: string;
  orderId: string;
  customerId: string;
  totalCents: number;
  currency: string;
  status: 'ISSUED';
  createdAt: Date;
}
