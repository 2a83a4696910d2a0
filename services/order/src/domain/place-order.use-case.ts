import { createHash, randomUUID } from 'node:crypto';
import type { LineItem, ShippingAddress } from '@app/contracts';
import { buildMessage } from '@app/messaging';
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
 * Places an order: stores it with its `NewOrder` event in one transaction, so the
 * announcement is sent if and only if the order exists. With an idempotency key, a
 * retried request returns the order the first one created.
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
  const newOrder = buildMessage(
    'NewOrder',
    {
      orderId: order.id,
      customerId: order.customerId,
      items: order.items,
      totalCents: order.totalCents,
      currency: order.currency,
      shippingAddress: order.shippingAddress,
      placedAt: now.toISOString(),
    },
    'order',
    { correlationId: order.id },
  );
  try {
    await deps.orders.insert(
      order,
      [newOrder],
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
