import { z } from 'zod';
import type { ServiceName } from './catalog';
import {
  CardTokenSchema,
  CentsSchema,
  CurrencySchema,
  IdSchema,
  LineItemSchema,
  MessagingStyleSchema,
  ReasonCodeSchema,
  ShippingAddressSchema,
  TimestampSchema,
} from './primitives';

// The HTTP contract of DESIGN.md sections 3 and 4a: the request schemas the routes parse
// with, and the responses they promise. docs/openapi.json is generated from this module.
// Responses are plain objects (extra fields allowed), so adding a field is additive.

/** The body of `POST /orders`. */
export const PlaceOrderRequestSchema = z.strictObject({
  customerId: z.string().trim().min(1).max(100),
  items: z.array(LineItemSchema).min(1).max(100),
  shippingAddress: ShippingAddressSchema,
  currency: CurrencySchema.default('EUR'),
  style: MessagingStyleSchema.optional(),
  payment: z.strictObject({ cardToken: CardTokenSchema }).optional(),
});
export type PlaceOrderRequest = z.infer<typeof PlaceOrderRequestSchema>;

/** The `Idempotency-Key` header of `POST /orders`. */
export const IdempotencyKeySchema = z.string().min(1).max(200).optional();

/** The query of `GET /orders`. */
export const OrderListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

/** The query of `GET /invoices`, `GET /shipments` and `GET /payments`. */
export const ByOrderListQuerySchema = z.object({
  orderId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

/** A resource id in a path; anything else is answered 404, like an unknown id. */
export const ResourceIdSchema = z.uuid();

export const OrderStatusSchema = z.enum([
  'PLACED',
  'AUTHORIZED',
  'INVOICED',
  'SHIPPED',
  'AWAITING_PAYMENT',
  'COMPLETED',
  'CANCELLED',
  'FAILED',
]);

export const OrderResourceSchema = z.object({
  id: IdSchema,
  status: OrderStatusSchema,
  style: MessagingStyleSchema,
  customerId: z.string(),
  items: z.array(LineItemSchema),
  totalCents: CentsSchema,
  currency: CurrencySchema,
  shippingAddress: ShippingAddressSchema,
  invoiceId: IdSchema.nullable(),
  shipmentId: IdSchema.nullable(),
  paymentId: IdSchema.nullable(),
  failureReason: z.string().optional(),
  cancellationReason: ReasonCodeSchema.optional(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});

export const OrderPageSchema = z.object({
  items: z.array(OrderResourceSchema),
  nextCursor: z.string().nullable(),
});

export const InvoiceResourceSchema = z.object({
  id: IdSchema,
  orderId: IdSchema,
  customerId: z.string(),
  totalCents: CentsSchema,
  currency: CurrencySchema,
  status: z.enum(['ISSUED', 'VOIDED']),
  createdAt: TimestampSchema,
});

export const ShipmentResourceSchema = z.object({
  id: IdSchema,
  orderId: IdSchema,
  items: z.array(LineItemSchema),
  shippingAddress: ShippingAddressSchema,
  status: z.enum(['PREPARED', 'CANCELLED']),
  createdAt: TimestampSchema,
});

export const PaymentResourceSchema = z.object({
  id: IdSchema,
  orderId: IdSchema,
  amountCents: CentsSchema,
  currency: CurrencySchema,
  status: z.enum(['AUTHORIZED', 'DECLINED']),
  declineReason: ReasonCodeSchema.optional(),
  createdAt: TimestampSchema,
});

export const StatisticsResourceSchema = z.object({
  orders: z.int().min(0),
  cancelledOrders: z.int().min(0),
  revenueCents: z.int().min(0),
  itemsSold: z.int().min(0),
  lastOrderAt: TimestampSchema.nullable(),
  byCurrency: z.array(
    z.object({
      currency: CurrencySchema,
      orders: z.int().min(0),
      cancelledOrders: z.int().min(0),
      revenueCents: z.int().min(0),
      itemsSold: z.int().min(0),
      lastOrderAt: TimestampSchema,
    }),
  ),
  source: z.string(),
  note: z.string(),
});

/** An RFC 9457 problem, as every service answers an error (`application/problem+json`). */
export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string(),
  code: z.string().describe('A stable error code, for example ORDER.NOT_FOUND'),
  instance: z.string(),
  requestId: z.string(),
  errors: z
    .array(z.object({ field: z.string(), message: z.string() }))
    .optional()
    .describe('The offending fields of a 400'),
});

/** One response of an operation: a JSON body, a problem, or no schema (`text`). */
export interface HttpResponse {
  readonly description: string;
  readonly schema?: z.ZodType;
  /** An `application/problem+json` body (ProblemSchema). */
  readonly problem?: boolean;
  readonly headers?: Readonly<Record<string, string>>;
}

/** One HTTP operation of a service, as its route implements it. */
export interface HttpOperation {
  readonly operationId: string;
  readonly method: 'get' | 'post';
  /** OpenAPI style: `/orders/{id}`. */
  readonly path: string;
  readonly summary: string;
  readonly body?: z.ZodType;
  readonly query?: z.ZodObject;
  readonly pathParams?: Readonly<Record<string, z.ZodType>>;
  readonly headers?: Readonly<Record<string, { schema: z.ZodType; description: string }>>;
  readonly responses: Readonly<Record<number, HttpResponse>>;
}

export interface HttpApi {
  readonly port: number;
  readonly description: string;
  readonly operations: readonly HttpOperation[];
}

const badRequest: HttpResponse = { description: 'Invalid input, naming each field', problem: true };

const getById = (
  resource: string,
  path: string,
  schema: z.ZodType,
  operationId: string,
): HttpOperation => ({
  operationId,
  method: 'get',
  path,
  summary: `One ${resource} by id`,
  pathParams: { id: ResourceIdSchema },
  responses: {
    200: { description: `The ${resource}`, schema },
    404: { description: `No ${resource} with this id`, problem: true },
  },
});

const listByOrder = (
  resources: string,
  path: string,
  schema: z.ZodType,
  operationId: string,
): HttpOperation => ({
  operationId,
  method: 'get',
  path,
  summary: `The ${resources}, newest first; filter by orderId`,
  query: ByOrderListQuerySchema,
  responses: {
    200: { description: `The ${resources}`, schema: z.array(schema) },
    400: badRequest,
  },
});

/** Each service's own HTTP operations (health, metrics and docs are common to all). */
export const HttpApis: Record<ServiceName, HttpApi> = {
  order: {
    port: 3001,
    description: 'Takes orders and follows each to COMPLETED, CANCELLED or FAILED.',
    operations: [
      {
        operationId: 'placeOrder',
        method: 'post',
        path: '/orders',
        summary: 'Place an order',
        body: PlaceOrderRequestSchema,
        headers: {
          'Idempotency-Key': {
            schema: IdempotencyKeySchema,
            description: 'Retries with the same key and body return the same order',
          },
        },
        responses: {
          202: {
            description: 'Accepted: the order, whose messages are on their way',
            schema: OrderResourceSchema,
            headers: { Location: '/orders/{id}' },
          },
          400: badRequest,
          415: { description: 'The body is not application/json', problem: true },
          422: {
            description: 'The Idempotency-Key was used with another body',
            problem: true,
          },
        },
      },
      getById('order', '/orders/{id}', OrderResourceSchema, 'getOrder'),
      {
        operationId: 'listOrders',
        method: 'get',
        path: '/orders',
        summary: 'Orders, newest first, a page at a time',
        query: OrderListQuerySchema,
        responses: {
          200: { description: 'A page of orders', schema: OrderPageSchema },
          400: badRequest,
        },
      },
    ],
  },
  invoicing: {
    port: 3002,
    description:
      'Issues an invoice per order (NewOrder or CreateInvoice); voids it on OrderCancelled.',
    operations: [
      listByOrder('invoices', '/invoices', InvoiceResourceSchema, 'listInvoices'),
      getById('invoice', '/invoices/{id}', InvoiceResourceSchema, 'getInvoice'),
    ],
  },
  shipping: {
    port: 3003,
    description: 'Prepares a shipment per order (NewOrder or ShipOrder).',
    operations: [
      listByOrder('shipments', '/shipments', ShipmentResourceSchema, 'listShipments'),
      getById('shipment', '/shipments/{id}', ShipmentResourceSchema, 'getShipment'),
    ],
  },
  statistics: {
    port: 3004,
    description: 'Counts orders from NewOrder events; takes cancelled ones out (OrderCancelled).',
    operations: [
      {
        operationId: 'getStatistics',
        method: 'get',
        path: '/statistics',
        summary: 'Totals over every NewOrder counted',
        responses: { 200: { description: 'The totals', schema: StatisticsResourceSchema } },
      },
    ],
  },
  payment: {
    port: 3005,
    description: 'Authorizes the amount of each order (NewOrder or AuthorizePayment).',
    operations: [
      listByOrder('payments', '/payments', PaymentResourceSchema, 'listPayments'),
      getById('payment', '/payments/{id}', PaymentResourceSchema, 'getPayment'),
    ],
  },
};
