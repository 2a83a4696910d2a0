import { anOrderRequest, request } from '@app/testing';
import type { SeededRandom } from './random';

export type Style = 'event' | 'command';
export const STYLES: readonly Style[] = ['event', 'command'];

/** One order of the run, fixed before the run starts so that every retry sends the same request. */
export interface PlannedOrder {
  index: number;
  style: Style;
  /** `tok_visa` completes the order; `tok_declined` cancels it (compensation in the event style). */
  cardToken: 'tok_visa' | 'tok_declined';
  expected: 'COMPLETED' | 'CANCELLED';
  /** Unique per order, so the Order database tells whether a retried POST created a second order. */
  customerId: string;
  idempotencyKey: string;
  body: Record<string, unknown>;
}

/** Half the orders in each style (alternating), about one in ten with a card that is declined. */
export function planOrders(count: number, random: SeededRandom): PlannedOrder[] {
  return Array.from({ length: count }, (_, index) => {
    const style = STYLES[index % 2]!;
    const cardToken = random.next() < 0.1 ? 'tok_declined' : 'tok_visa';
    const customerId = `chaos-${random.seed}-${index}`;
    return {
      index,
      style,
      cardToken,
      expected: cardToken === 'tok_visa' ? 'COMPLETED' : 'CANCELLED',
      customerId,
      idempotencyKey: `chaos-${random.seed}-${index}`,
      body: anOrderRequest({ customerId, style, payment: { cardToken } }),
    };
  });
}

export interface AcceptedOrder {
  order: PlannedOrder;
  id: string;
  /** POSTs it took: 1 unless Order was down, its database away, or a response lost. */
  attempts: number;
}

export interface LoadResult {
  accepted: AcceptedOrder[];
  /** Orders never answered 202 before their deadline. */
  refused: { order: PlannedOrder; last: string }[];
  /** Answers other than 202, by status (`connection` when no HTTP answer came at all). */
  retriedAnswers: Record<string, number>;
  /** The first such answer of each status: its problem `detail` or the connection error. */
  firstAnswers: Record<string, string>;
  durationMs: number;
}

export interface LoadOptions {
  /** Orders started per second (each waits its turn; retries do not delay the schedule). */
  rate: number;
  /** Orders in flight at most, retries included. */
  concurrency: number;
  /** How long one order is retried before it counts as refused. */
  orderDeadlineMs: number;
}

/**
 * POSTs every planned order at `rate` per second. A POST answered anything but 202 (Order
 * killed, its database cut, a 503) is sent again, same body and same `Idempotency-Key`,
 * with a growing pause, so an order whose first answer was lost is replayed, not doubled.
 */
export class OrderLoad {
  private answeredCount = 0;

  constructor(
    private readonly orderUrl: string,
    private readonly orders: readonly PlannedOrder[],
    private readonly options: LoadOptions,
  ) {}

  /** Orders accepted so far. */
  answered(): number {
    return this.answeredCount;
  }

  async run(): Promise<LoadResult> {
    const began = Date.now();
    const accepted: AcceptedOrder[] = [];
    const refused: LoadResult['refused'] = [];
    const retriedAnswers: Record<string, number> = {};
    const firstAnswers: Record<string, string> = {};
    let next = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const order = this.orders[next];
        if (!order) return;
        next += 1;
        const due = began + (order.index * 1000) / this.options.rate;
        if (due > Date.now()) await pause(due - Date.now());
        const outcome = await this.place(order, retriedAnswers, firstAnswers);
        if ('id' in outcome) {
          accepted.push(outcome);
          this.answeredCount += 1;
        } else {
          refused.push({ order, last: outcome.last });
        }
      }
    };
    await Promise.all(Array.from({ length: this.options.concurrency }, worker));
    accepted.sort((a, b) => a.order.index - b.order.index);
    return { accepted, refused, retriedAnswers, firstAnswers, durationMs: Date.now() - began };
  }

  private async place(
    order: PlannedOrder,
    retriedAnswers: Record<string, number>,
    firstAnswers: Record<string, string>,
  ): Promise<AcceptedOrder | { last: string }> {
    const deadline = Date.now() + this.options.orderDeadlineMs;
    let last = '';
    for (let attempts = 1; ; attempts += 1) {
      const response = await request(`${this.orderUrl}/orders`, {
        body: order.body,
        headers: { 'Idempotency-Key': order.idempotencyKey },
      }).catch((err: Error) => ({ status: 0, body: { detail: err.message } }));
      if (response.status === 202 && typeof response.body?.id === 'string') {
        return { order, id: response.body.id as string, attempts };
      }
      const status = response.status === 0 ? 'connection' : String(response.status);
      retriedAnswers[status] = (retriedAnswers[status] ?? 0) + 1;
      last = `${status}: ${JSON.stringify(response.body?.detail ?? response.body)}`;
      firstAnswers[status] ??= last;
      // A request the API rejects (400, 422) is wrong, not unlucky: sending it again cannot help.
      const rejected = response.status >= 400 && response.status < 500 && response.status !== 429;
      if (rejected || Date.now() > deadline) return { last };
      await pause(Math.min(2_000, 100 * 2 ** attempts));
    }
  }
}

/** The schedule's own pacing (the driver's and the load's), not a wait for an effect. */
export const pause = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));
