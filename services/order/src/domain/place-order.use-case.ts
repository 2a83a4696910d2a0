import { createHash, randomUUID } from 'node:crypto';
import {
  Exchanges,
  say,
  type LineItem,
  type MessageIntent,
  type ShippingAddress,
} from '@app/contracts';
import { MAX_TOTAL_CENTS, totalOf, type MessagingStyle, type Order } from './order';

export interface PlaceOrderRequest {
  customerId: string;
  items: LineItem[];
  shippingAddress: ShippingAddress;
  currency: string;
  style?: MessagingStyle;
  /** The test token to pay with; `tok_visa` when none is given. */
  payment?: { cardToken: string };
}

export const DEFAULT_CARD_TOKEN = 'tok_visa';

/** Where placed orders are kept (see OrderRepository). */
export interface PlacedOrders {
  findByIdempotencyKey(
    key: string,
  ): Promise<{ order: Order; requestHash: string | null } | undefined>;
  /** Stores the order and the messages announcing it in one transaction. */
  insert(
    order: Order,
    messages: MessageIntent[],
    idempotency?: { key: string; requestHash: string },
  ): Promise<void>;
}

export interface PlaceOrderDeps {
  orders: PlacedOrders;
  defaultStyle: MessagingStyle;
}

export type PlaceOrderResult =
  | { kind: 'placed'; order: Order }
  | { kind: 'replayed'; order: Order }
  | { kind: 'key-reused' }
  | { kind: 'total-too-large'; totalCents: number };

/**
 * Places an order: stores it with its outgoing messages in one transaction, so they are
 * sent if and only if the order exists. With an idempotency key, a retried request
 * returns the order the first one created.
 */
export async function placeOrder(
  deps: PlaceOrderDeps,
  request: PlaceOrderRequest,
  idempotencyKey?: string,
): Promise<PlaceOrderResult> {
  const requestHash = hashRequest(request);
  if (idempotencyKey) {
    const earlier = await deps.orders.findByIdempotencyKey(idempotencyKey);
    if (earlier) return replayOf(earlier, requestHash);
  }
  const totalCents = totalOf(request.items);
  if (totalCents > MAX_TOTAL_CENTS) return { kind: 'total-too-large', totalCents };

  const now = new Date();
  const order: Order = {
    id: randomUUID(),
    status: 'PLACED',
    style: request.style ?? deps.defaultStyle,
    customerId: request.customerId,
    items: request.items,
    totalCents,
    currency: request.currency,
    shippingAddress: request.shippingAddress,
    createdAt: now,
    updatedAt: now,
  };
  const messages = intentsFor(order, request.payment?.cardToken ?? DEFAULT_CARD_TOKEN);
  try {
    await deps.orders.insert(
      order,
      messages,
      idempotencyKey ? { key: idempotencyKey, requestHash } : undefined,
    );
  } catch (err) {
    // Two requests with one key raced: the loser answers with the winner's order.
    const winner = idempotencyKey
      ? await deps.orders.findByIdempotencyKey(idempotencyKey)
      : undefined;
    if (winner) return replayOf(winner, requestHash);
    throw err;
  }
  return { kind: 'placed', order };
}

function replayOf(
  earlier: { order: Order; requestHash: string | null },
  requestHash: string,
): PlaceOrderResult {
  return earlier.requestHash === requestHash
    ? { kind: 'replayed', order: earlier.order }
    : { kind: 'key-reused' };
}

function hashRequest(request: PlaceOrderRequest): string {
  return createHash('sha256').update(JSON.stringify(request)).digest('hex');
}

/**
 * The two styles side by side. Event style: announce `NewOrder` and let whoever is
 * subscribed (Payment, Invoicing, Shipping, Statistics) decide. Command style: ask Payment
 * first, with the address for its reply; invoicing and shipping wait for the authorization
 * (see order-saga.ts).
 */
export function intentsFor(order: Order, cardToken: string): MessageIntent[] {
  if (order.style === 'event') {
    return [
      say('NewOrder', {
        orderId: order.id,
        customerId: order.customerId,
        items: order.items,
        totalCents: order.totalCents,
        currency: order.currency,
        shippingAddress: order.shippingAddress,
        placedAt: order.createdAt.toISOString(),
        payment: { cardToken },
      }),
    ];
  }
  return [
    say(
      'AuthorizePayment',
      {
        orderId: order.id,
        customerId: order.customerId,
        amountCents: order.totalCents,
        currency: order.currency,
        cardToken,
      },
      Exchanges.orderReplies.name,
    ),
  ];
}
