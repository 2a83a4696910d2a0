import { z } from 'zod';

/** Money is integer cents; a single amount stays within a 32-bit signed integer. */
export const CentsSchema = z.int().min(0).max(2_147_483_647);

/** ISO 4217 code, upper case. */
export const CurrencySchema = z.string().regex(/^[A-Z]{3}$/, 'must be a 3-letter ISO 4217 code');

/** ISO-8601 timestamp in UTC. */
export const TimestampSchema = z.iso.datetime();

export const IdSchema = z.uuid();

/** A payment test token (`tok_visa`, `tok_declined`, …), never a card number. */
export const CardTokenSchema = z.string().trim().min(1).max(64);

/**
 * Why a payment was declined or an order cancelled: a snake_case code. Any code parses, so
 * a new one is an additive change; the ones Payment gives today are `DeclineReasons`.
 */
export const ReasonCodeSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be a snake_case code');

export const LineItemSchema = z.object({
  sku: z.string().trim().min(1).max(64),
  quantity: z.int().min(1).max(10_000),
  unitPriceCents: CentsSchema,
});
export type LineItem = z.infer<typeof LineItemSchema>;

export const ShippingAddressSchema = z.object({
  name: z.string().trim().min(1).max(200),
  street: z.string().trim().min(1).max(200),
  city: z.string().trim().min(1).max(100),
  postalCode: z.string().trim().min(1).max(20),
  country: z.string().regex(/^[A-Z]{2}$/, 'must be a 2-letter ISO 3166-1 code'),
});
export type ShippingAddress = z.infer<typeof ShippingAddressSchema>;

/**
 * How an order travels: `event` (Order announces NewOrder, each subscriber decides) or
 * `command` (Order tells each recipient what to do and waits for the replies).
 */
export const MessagingStyleSchema = z.enum(['event', 'command']);
export type MessagingStyle = z.infer<typeof MessagingStyleSchema>;
