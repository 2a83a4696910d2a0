export interface Invoice {
  id: string;
  orderId: string;
  customerId: string;
  totalCents: number;
  currency: string;
  /** VOIDED once its order is cancelled (OrderCancelled, event style). */
  status: 'ISSUED' | 'VOIDED';
  createdAt: Date;
}
