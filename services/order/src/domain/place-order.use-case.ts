import { createHash, randomUUID } from 'node:crypto';
import { Exchanges, type LineItem, type ShippingAddress } from '@app/contracts';
import { buildMessage, type OutgoingMessage } from '@app/messaging';
import type { OrderRepository } from '../data-access/order.repository';
import { MAX_TOTAL_CENTS, totalOf, type MessagingStyle, type Order } from './order';

export interface PlaceOrderRequest {
  customerId: string;
  items: LineItem[];
  shippingAddress: ShippingAddress;
  currency: string;
  style?: MessagingStyle;
}

export interface PlaceOrderDeps {
  orders: OrderRepository;
  defaultStyle: MessagingStyle;
  /** Wakes the outbox relay after the commit, so the message leaves at once. */
  outboxWritten: () => void;
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
  const messages = messagesFor(order);
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
  deps.outboxWritten();
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
 * subscribed decide. Command style: tell Invoicing and Shipping what to do, each with
 * the address for its reply.
 */
export function messagesFor(order: Order): OutgoingMessage[] {
  const causation = { correlationId: order.id };
  if (order.style === 'event') {
    return [
      buildMessage(
        'NewOrder',
        {
          orderId: order.id,
          customerId: order.customerId,
          items: order.items,
          totalCents: order.totalCents,
          currency: order.currency,
          shippingAddress: order.shippingAddress,
          placedAt: order.createdAt.toISOString(),
        },
        'order',
        causation,
      ),
    ];
  }
  const replies = { ...causation, replyTo: Exchanges.orderReplies.name };
  return [
    buildMessage(
      'CreateInvoice',
      {
        orderId: order.id,
        customerId: order.customerId,
        items: order.items,
        totalCents: order.totalCents,
        currency: order.currency,
      },
      'order',
      replies,
    ),
    buildMessage(
      'ShipOrder',
      { orderId: order.id, items: order.items, shippingAddress: order.shippingAddress },
      'order',
      replies,
    ),
  ];
}
