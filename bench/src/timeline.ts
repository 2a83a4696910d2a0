import type { ServiceName } from '@app/contracts';
import type { PlacedOrder } from './load';

/** An outbox row: when its transaction wrote it and when the relay marked it confirmed. */
export interface OutboxRow {
  messageId: string;
  type: string;
  orderId: string;
  createdAt: number;
  sentAt: number | undefined;
}

/** An inbox row: the consumer (its queue) started the effect's transaction at `receivedAt`. */
export interface InboxRow {
  messageId: string;
  consumer: string;
  type: string;
  receivedAt: number;
}

export interface OrderRow {
  id: string;
  status: string;
  createdAt: number;
  updatedAt: number;
}

/** The services that publish, and so have an outbox. */
export type Publisher = Exclude<ServiceName, 'statistics'>;

/** The timestamps the services recorded for a set of orders (epoch ms, millisecond precision). */
export interface Timeline {
  orders: OrderRow[];
  outbox: Record<Publisher, OutboxRow[]>;
  inbox: Record<ServiceName, InboxRow[]>;
}

/** Named samples in milliseconds, in the order the stages happen. */
export type Stages = Map<string, number[]>;

export const END_TO_END = 'end to end: POST sent -> order COMPLETED';
export const POST_TO_COMMIT = 'POST -> 202 (order + outbox committed)';
export const RELAY = 'commit -> publish confirmed (order relay)';
/** The payment step: from the 202 to the decision (accepted or declined) in Order's inbox. */
export const PAYMENT_STEP = 'payment step: 202 -> decision in Order inbox';
/** What follows the decision until the order completes (the invoice and shipment, if still owed). */
export const AFTER_PAYMENT = 'payment decision in Order inbox -> order COMPLETED';

const push = (stages: Stages, label: string, value: number): void => {
  const values = stages.get(label);
  if (values) values.push(value);
  else stages.set(label, [value]);
};

/**
 * The stages of each order, from its timestamps: the POST and its answer (the load
 * generator's clock), the order's outbox row confirmed, each consumer's inbox row (its
 * transaction's start), the outcome's inbox row back at Order, the payment decision's
 * arrival at Order, and the completion (`orders.updated_at`). Every clock is this machine's wall clock.
 */
export function stagesOf(placed: readonly PlacedOrder[], timeline: Timeline): Stages {
  const stages: Stages = new Map();
  const byId = new Map(placed.map((order) => [order.id, order]));
  for (const order of placed) push(stages, POST_TO_COMMIT, order.answeredAt - order.sentAt);

  // The relay of the message written with the order in the POST's transaction (NewOrder,
  // or AuthorizePayment): each order's first outbox row. Later ones (CreateInvoice, ShipOrder,
  // OrderCancelled) wait for a reply first, which is not the relay's time.
  const firstRows = new Map<string, OutboxRow>();
  for (const row of timeline.outbox.order) {
    const first = firstRows.get(row.orderId);
    if (!first || row.createdAt < first.createdAt) firstRows.set(row.orderId, row);
  }
  for (const row of firstRows.values()) {
    const order = byId.get(row.orderId);
    if (order && row.sentAt !== undefined) push(stages, RELAY, row.sentAt - order.answeredAt);
  }

  // Where each message from Order was received, per consumer, and when.
  const orderMessages = new Map(timeline.outbox.order.map((row) => [row.messageId, row]));
  const received = new Map<string, number>(); // `${service}|${orderId}` -> receivedAt
  for (const service of ['invoicing', 'shipping', 'statistics', 'payment'] as const) {
    for (const row of timeline.inbox[service]) {
      const message = orderMessages.get(row.messageId);
      const order = message && byId.get(message.orderId);
      if (!message || !order) continue;
      push(stages, `commit -> ${row.consumer} inbox`, row.receivedAt - order.answeredAt);
      received.set(`${service}|${message.orderId}`, row.receivedAt);
    }
  }

  // The outcomes on their way back: from the consumer's inbox to Order's.
  const backAtOrder = new Map(timeline.inbox.order.map((row) => [row.messageId, row]));
  for (const service of ['invoicing', 'shipping', 'payment'] as const) {
    for (const row of timeline.outbox[service]) {
      if (!byId.has(row.orderId)) continue;
      if (row.sentAt !== undefined) {
        push(stages, `${service} relay: outbox write -> confirmed`, row.sentAt - row.createdAt);
      }
      const from = received.get(`${service}|${row.orderId}`);
      const arrived = backAtOrder.get(row.messageId);
      if (from !== undefined && arrived) {
        push(
          stages,
          `${service} inbox -> ${arrived.consumer} inbox (${row.type})`,
          arrived.receivedAt - from,
        );
      }
    }
  }

  // The payment step, and what remains after it: the extra hop Payment adds, per style.
  const decidedAt = new Map<string, number>(); // orderId -> the decision's arrival at Order
  for (const row of timeline.outbox.payment) {
    const order = byId.get(row.orderId);
    const arrived = backAtOrder.get(row.messageId);
    if (!order || !arrived || decidedAt.has(row.orderId)) continue;
    decidedAt.set(row.orderId, arrived.receivedAt);
    push(stages, PAYMENT_STEP, arrived.receivedAt - order.answeredAt);
  }
  for (const row of timeline.orders) {
    const decided = decidedAt.get(row.id);
    if (decided !== undefined && row.status === 'COMPLETED') {
      push(stages, AFTER_PAYMENT, row.updatedAt - decided);
    }
  }

  // Last, so the end-to-end figure closes each table.
  for (const row of timeline.orders) {
    const order = byId.get(row.id);
    if (order && row.status === 'COMPLETED') push(stages, END_TO_END, row.updatedAt - order.sentAt);
  }
  return stages;
}
