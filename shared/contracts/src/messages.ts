import { z } from 'zod';
import {
  CardTokenSchema,
  CentsSchema,
  CurrencySchema,
  IdSchema,
  LineItemSchema,
  ReasonCodeSchema,
  ShippingAddressSchema,
  TimestampSchema,
} from './primitives';

// Consumers parse what they need and tolerate extra fields (z.object strips unknown keys),
// so contracts can grow additively; a breaking change is a new message type.

/** How the customer pays: a test token. Added to NewOrder after the first version. */
export const PaymentDetailsSchema = z.object({ cardToken: CardTokenSchema });
export type PaymentDetails = z.infer<typeof PaymentDetailsSchema>;

export const NewOrderSchema = z.object({
  orderId: IdSchema,
  customerId: z.string().min(1),
  items: z.array(LineItemSchema).min(1),
  totalCents: CentsSchema,
  currency: CurrencySchema,
  shippingAddress: ShippingAddressSchema,
  placedAt: TimestampSchema,
  /** Optional (additive): an order without it pays with the default token, `tok_visa`. */
  payment: PaymentDetailsSchema.optional(),
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

export const AuthorizePaymentSchema = z.object({
  orderId: IdSchema,
  customerId: z.string().min(1),
  amountCents: CentsSchema,
  currency: CurrencySchema,
  cardToken: CardTokenSchema,
});
export type AuthorizePayment = z.infer<typeof AuthorizePaymentSchema>;

/** The reasons Payment declines with today (DESIGN.md section 4a). */
export const DeclineReasons = ['card_declined', 'insufficient_funds', 'amount_over_limit'] as const;
export type DeclineReason = (typeof DeclineReasons)[number];

const PaymentAuthorizationSchema = z.object({
  paymentId: IdSchema,
  orderId: IdSchema,
  amountCents: CentsSchema,
  currency: CurrencySchema,
  authorizedAt: TimestampSchema,
});

const PaymentDeclineSchema = z.object({
  paymentId: IdSchema,
  orderId: IdSchema,
  reason: ReasonCodeSchema,
  declinedAt: TimestampSchema,
});

/** Reply to AuthorizePayment (command style). */
export const PaymentAuthorizedSchema = PaymentAuthorizationSchema;
export type PaymentAuthorized = z.infer<typeof PaymentAuthorizedSchema>;

/** Reply to AuthorizePayment (command style). */
export const PaymentDeclinedSchema = PaymentDeclineSchema;
export type PaymentDeclined = z.infer<typeof PaymentDeclinedSchema>;

/** Payment's announcement after a NewOrder (event style). */
export const AuthorizationAcceptedSchema = PaymentAuthorizationSchema;
export type AuthorizationAccepted = z.infer<typeof AuthorizationAcceptedSchema>;

/** Payment's announcement after a NewOrder (event style). */
export const AuthorizationDeclinedSchema = PaymentDeclineSchema;
export type AuthorizationDeclined = z.infer<typeof AuthorizationDeclinedSchema>;

/** Order's compensation in the event style: whoever acted on the NewOrder undoes it. */
export const OrderCancelledSchema = z.object({
  orderId: IdSchema,
  reason: ReasonCodeSchema,
  cancelledAt: TimestampSchema,
});
export type OrderCancelled = z.infer<typeof OrderCancelledSchema>;
