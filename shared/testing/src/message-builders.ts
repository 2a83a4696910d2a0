import { randomUUID } from 'node:crypto';
import type { MessageType, PayloadOf } from '@app/contracts';
import { aNewOrder, anAddress, anItem } from './builders';

const now = (): string => new Date().toISOString();

/**
 * A valid payload of every message type of the contract, with fresh ids; overrides win.
 * docs/asyncapi.yaml takes its examples from here, so the examples the services' contract
 * tests load are the messages the other tests build.
 */
export const MessageBuilders: {
  [T in MessageType]: (overrides?: Partial<PayloadOf<T>>) => PayloadOf<T>;
} = {
  NewOrder: (overrides = {}) => aNewOrder(overrides),
  CreateInvoice: (overrides = {}) => {
    const { orderId, customerId, items, totalCents, currency } = aNewOrder();
    return { orderId, customerId, items, totalCents, currency, ...overrides };
  },
  ShipOrder: (overrides = {}) => ({
    orderId: randomUUID(),
    items: [anItem()],
    shippingAddress: anAddress(),
    ...overrides,
  }),
  InvoiceIssued: (overrides = {}) => ({
    invoiceId: randomUUID(),
    orderId: randomUUID(),
    totalCents: 2_500,
    currency: 'EUR',
    issuedAt: now(),
    ...overrides,
  }),
  ShipmentPrepared: (overrides = {}) => ({
    shipmentId: randomUUID(),
    orderId: randomUUID(),
    preparedAt: now(),
    ...overrides,
  }),
  InvoiceCreated: (overrides = {}) => ({
    invoiceId: randomUUID(),
    orderId: randomUUID(),
    ...overrides,
  }),
  ShipmentCreated: (overrides = {}) => ({
    shipmentId: randomUUID(),
    orderId: randomUUID(),
    ...overrides,
  }),
  OrderCancelled: (overrides = {}) => ({
    orderId: randomUUID(),
    reason: 'card_declined',
    cancelledAt: now(),
    ...overrides,
  }),
  AuthorizePayment: (overrides = {}) => ({
    orderId: randomUUID(),
    customerId: `customer-${randomUUID().slice(0, 8)}`,
    amountCents: 2_500,
    currency: 'EUR',
    cardToken: 'tok_visa',
    ...overrides,
  }),
  PaymentAuthorized: (overrides = {}) => anAuthorization(overrides),
  AuthorizationAccepted: (overrides = {}) => anAuthorization(overrides),
  PaymentDeclined: (overrides = {}) => aDecline(overrides),
  AuthorizationDeclined: (overrides = {}) => aDecline(overrides),
};

function anAuthorization(overrides: Partial<PayloadOf<'PaymentAuthorized'>>) {
  return {
    paymentId: randomUUID(),
    orderId: randomUUID(),
    amountCents: 2_500,
    currency: 'EUR',
    authorizedAt: now(),
    ...overrides,
  };
}

function aDecline(overrides: Partial<PayloadOf<'PaymentDeclined'>>) {
  return {
    paymentId: randomUUID(),
    orderId: randomUUID(),
    reason: 'card_declined',
    declinedAt: now(),
    ...overrides,
  };
}

/** A valid payload of `type`, with fresh ids. */
export const aMessage = <T extends MessageType>(
  type: T,
  overrides: Partial<PayloadOf<T>> = {},
): PayloadOf<T> => MessageBuilders[type](overrides);
