import { z } from 'zod';
import {
  CentsSchema,
  CurrencySchema,
  IdSchema,
  LineItemSchema,
  ShippingAddressSchema,
  TimestampSchema,
} from './primitives';

// Consumers parse what they need and tolerate extra fields (z.object strips unknown keys),
// so contracts can grow additively; a breaking change is a new message type.

export const NewOrderSchema = z.object({
  orderId: IdSchema,
  customerId: z.string().min(1),
  items: z.array(LineItemSchema).min(1),
  totalCents: CentsSchema,
  currency: CurrencySchema,
  shippingAddress: ShippingAddressSchema,
  placedAt: TimestampSchema,
});
export type NewOrder = z.infer<typeof NewOrderSchema>;

export const CreateInvoiceSchema = z.object({
  orderId: IdSchema,
  customerId: z.string().min(1),
  items: z.array(LineItemSchema).min(1),
  totalCents: CentsSchema,
  currency: CurrencySchema,
});
export type CreateInvoice = z.infer<typeof CreateInvoiceSchema>;

export const ShipOrderSchema = z.object({
  orderId: IdSchema,
  items: z.array(LineItemSchema).min(1),
  shippingAddress: ShippingAddressSchema,
});
export type ShipOrder = z.infer<typeof ShipOrderSchema>;

export const InvoiceIssuedSchema = z.object({
  invoiceId: IdSchema,
  orderId: IdSchema,
  totalCents: CentsSchema,
  currency: CurrencySchema,
  issuedAt: TimestampSchema,
});
export type InvoiceIssued = z.infer<typeof InvoiceIssuedSchema>;

export const ShipmentPreparedSchema = z.object({
  shipmentId: IdSchema,
  orderId: IdSchema,
  preparedAt: TimestampSchema,
});
export type ShipmentPrepared = z.infer<typeof ShipmentPreparedSchema>;

export const InvoiceCreatedSchema = z.object({ invoiceId: IdSchema, orderId: IdSchema });
export type InvoiceCreated = z.infer<typeof InvoiceCreatedSchema>;

export const ShipmentCreatedSchema = z.object({ shipmentId: IdSchema, orderId: IdSchema });
export type ShipmentCreated = z.infer<typeof ShipmentCreatedSchema>;
