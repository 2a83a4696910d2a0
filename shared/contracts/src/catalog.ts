import type { z } from 'zod';
import {
  AuthorizationAcceptedSchema,
  AuthorizationDeclinedSchema,
  AuthorizePaymentSchema,
  CreateInvoiceSchema,
  InvoiceCreatedSchema,
  InvoiceIssuedSchema,
  NewOrderSchema,
  OrderCancelledSchema,
  PaymentAuthorizedSchema,
  PaymentDeclinedSchema,
  ShipmentCreatedSchema,
  ShipmentPreparedSchema,
  ShipOrderSchema,
} from './messages';

/** The services of the system; also each one's AMQP `appId` and broker user name. */
export const ServiceNames = ['order', 'invoicing', 'shipping', 'statistics', 'payment'] as const;
export type ServiceName = (typeof ServiceNames)[number];

/** Exchanges of DESIGN.md section 4, each owned (declared, and alone written to) by one service. */
export const Exchanges = {
  orderEvents: { name: 'order.events', type: 'topic', owner: 'order' },
  invoicingEvents: { name: 'invoicing.events', type: 'topic', owner: 'invoicing' },
  shippingEvents: { name: 'shipping.events', type: 'topic', owner: 'shipping' },
  invoicingCommands: { name: 'invoicing.commands', type: 'direct', owner: 'invoicing' },
  shippingCommands: { name: 'shipping.commands', type: 'direct', owner: 'shipping' },
  orderReplies: { name: 'order.replies', type: 'direct', owner: 'order' },
  paymentCommands: { name: 'payment.commands', type: 'direct', owner: 'payment' },
  paymentEvents: { name: 'payment.events', type: 'topic', owner: 'payment' },
} as const satisfies Record<string, { name: string; type: 'topic' | 'direct'; owner: ServiceName }>;
export type ExchangeName = (typeof Exchanges)[keyof typeof Exchanges]['name'];

/** How a message type travels: its schema, where it is published and who may send it. */
export interface MessageDefinition<S extends z.ZodType = z.ZodType> {
  readonly type: string;
  readonly kind: 'event' | 'command' | 'reply';
  readonly schema: S;
  readonly exchange: ExchangeName;
  readonly routingKey: string;
  /** The services allowed to send it; consumers park messages from anyone else. */
  readonly senders: readonly ServiceName[];
  /** For a command: the reply types its recipient may answer with (to its `replyTo`). */
  readonly replies?: readonly string[];
}

export const Messages = {
  NewOrder: {
    type: 'NewOrder',
    kind: 'event',
    schema: NewOrderSchema,
    exchange: 'order.events',
    routingKey: 'order.new',
    senders: ['order'],
  },
  InvoiceIssued: {
    type: 'InvoiceIssued',
    kind: 'event',
    schema: InvoiceIssuedSchema,
    exchange: 'invoicing.events',
    routingKey: 'invoice.issued',
    senders: ['invoicing'],
  },
  ShipmentPrepared: {
    type: 'ShipmentPrepared',
    kind: 'event',
    schema: ShipmentPreparedSchema,
    exchange: 'shipping.events',
    routingKey: 'shipment.prepared',
    senders: ['shipping'],
  },
  CreateInvoice: {
    type: 'CreateInvoice',
    kind: 'command',
    schema: CreateInvoiceSchema,
    exchange: 'invoicing.commands',
    routingKey: 'CreateInvoice',
    senders: ['order'],
    replies: ['InvoiceCreated'],
  },
  ShipOrder: {
    type: 'ShipOrder',
    kind: 'command',
    schema: ShipOrderSchema,
    exchange: 'shipping.commands',
    routingKey: 'ShipOrder',
    senders: ['order'],
    replies: ['ShipmentCreated'],
  },
  InvoiceCreated: {
    type: 'InvoiceCreated',
    kind: 'reply',
    schema: InvoiceCreatedSchema,
    exchange: 'order.replies',
    routingKey: 'InvoiceCreated',
    senders: ['invoicing'],
  },
  ShipmentCreated: {
    type: 'ShipmentCreated',
    kind: 'reply',
    schema: ShipmentCreatedSchema,
    exchange: 'order.replies',
    routingKey: 'ShipmentCreated',
    senders: ['shipping'],
  },
  OrderCancelled: {
    type: 'OrderCancelled',
    kind: 'event',
    schema: OrderCancelledSchema,
    exchange: 'order.events',
    routingKey: 'order.cancelled',
    senders: ['order'],
  },
  AuthorizePayment: {
    type: 'AuthorizePayment',
    kind: 'command',
    schema: AuthorizePaymentSchema,
    exchange: 'payment.commands',
    routingKey: 'AuthorizePayment',
    senders: ['order'],
    replies: ['PaymentAuthorized', 'PaymentDeclined'],
  },
  PaymentAuthorized: {
    type: 'PaymentAuthorized',
    kind: 'reply',
    schema: PaymentAuthorizedSchema,
    exchange: 'order.replies',
    routingKey: 'PaymentAuthorized',
    senders: ['payment'],
  },
  PaymentDeclined: {
    type: 'PaymentDeclined',
    kind: 'reply',
    schema: PaymentDeclinedSchema,
    exchange: 'order.replies',
    routingKey: 'PaymentDeclined',
    senders: ['payment'],
  },
  AuthorizationAccepted: {
    type: 'AuthorizationAccepted',
    kind: 'event',
    schema: AuthorizationAcceptedSchema,
    exchange: 'payment.events',
    routingKey: 'authorization.accepted',
    senders: ['payment'],
  },
  AuthorizationDeclined: {
    type: 'AuthorizationDeclined',
    kind: 'event',
    schema: AuthorizationDeclinedSchema,
    exchange: 'payment.events',
    routingKey: 'authorization.declined',
    senders: ['payment'],
  },
} as const satisfies Record<string, MessageDefinition>;

export type MessageType = keyof typeof Messages;
export type PayloadOf<T extends MessageType> = z.infer<(typeof Messages)[T]['schema']>;

export const isMessageType = (type: unknown): type is MessageType =>
  typeof type === 'string' && Object.hasOwn(Messages, type);

/**
 * What a use case wants said: a message of the contract and its payload, and for a
 * command the exchange its reply goes to. How it travels (ids, causation, trace, outbox)
 * is the data access's business.
 */
export type MessageIntent = {
  [T in MessageType]: { type: T; payload: PayloadOf<T>; replyTo?: string };
}[MessageType];

/** A message intent, typed by its message type. */
export const say = <T extends MessageType>(
  type: T,
  payload: PayloadOf<T>,
  replyTo?: string,
): MessageIntent => ({ type, payload, ...(replyTo ? { replyTo } : {}) }) as MessageIntent;
