import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '@app/runtime';
import { AppError } from '@app/http';

/**
 * How long a refused client is asked to wait. The backlog drains at the rate orders
 * complete (a few hundred per second here), so a second frees room for that many.
 */
export const OVERLOADED_RETRY_AFTER_SECONDS = 1;

/** A place held by an admitted request. */
export interface Admission {
  /** `placed`: a new order was stored (it counts as open until a count includes it). */
  settle(placed: boolean): void;
}

export interface OpenOrdersLimitOptions {
  /** Counts the orders accepted and not yet terminal, in the database (all instances). */
  countOpen: () => Promise<number>;
  /** New orders are refused while this many are open. */
  limit: number;
  /** How often the count is taken again. */
  refreshMs: number;
  logger: Logger;
  registry: Registry;
}

/**
 * Admission control at the edge. Beyond what the pipeline completes per second, every
 * order accepted only lengthens the backlog, and its POST takes CPU and database
 * connections from the consumers that would complete the orders already open, so
 * completions collapse under overload. Order therefore refuses a new order with 503,
 * `Retry-After` and problem+json while `limit` orders are open: the backlog stays
 * bounded (the outbox rows and queued messages of at most `limit` orders), a refused
 * request costs no database work, and the consumers keep their share of the machine.
 *
 * The count comes from the database every `refreshMs` (so it covers every instance of
 * Order), plus the orders this instance accepted since, so a burst between two counts
 * cannot run far past the limit.
 */
export class OpenOrdersLimit {
  private open = 0;
  /** Admitted requests whose order is not committed yet (or turned out not to be new). */
  private admitting = 0;
  private acceptedSinceCount = 0;
  private timer: NodeJS.Timeout | undefined;
  private counting: Promise<void> | undefined;
  private readonly openGauge: Gauge;
  private readonly refused: Counter;

  constructor(private readonly options: OpenOrdersLimitOptions) {
    this.openGauge = new Gauge({
      name: 'orders_open',
      help: 'Orders accepted and not yet terminal, as last counted for admission control',
      registers: [options.registry],
    });
    this.refused = new Counter({
      name: 'orders_refused_total',
      help: 'POST /orders refused with 503 because too many orders were open (MAX_OPEN_ORDERS)',
      registers: [options.registry],
    });
    new Gauge({
      name: 'orders_open_limit',
      help: 'Open orders at which POST /orders is refused (MAX_OPEN_ORDERS)',
      registers: [options.registry],
    }).set(options.limit);
  }

  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.counting;
  }

  /**
   * Admits a request for a new order, or throws the 503 when the limit is reached; call it
   * before any work on the request, and `settle` the admission when the request is done.
   * An admitted request holds a place from now on, so many requests arriving together
   * cannot all slip in before the first of them is stored.
   */
  admit(): Admission {
    const open = this.open + this.acceptedSinceCount + this.admitting;
    if (open < this.options.limit) {
      this.admitting += 1;
      let settled = false;
      return {
        settle: (placed) => {
          if (settled) return;
          settled = true;
          this.admitting -= 1;
          if (placed) this.acceptedSinceCount += 1;
        },
      };
    }
    this.refused.inc();
    throw new AppError(
      'ORDER.OVERLOADED',
      503,
      `${open} orders are in progress, the most this system takes on at once (${this.options.limit}); ` +
        `try again in ${OVERLOADED_RETRY_AFTER_SECONDS} s.`,
      { retryAfterSeconds: OVERLOADED_RETRY_AFTER_SECONDS },
    );
  }

  private refresh(): Promise<void> {
    // One count at a time: a slow database must not pile up queries.
    this.counting ??= (async () => {
      // Orders accepted while the count runs may or may not be in it: counting them twice
      // until the next count errs on the side of refusing.
      const acceptedBefore = this.acceptedSinceCount;
      try {
        this.open = await this.options.countOpen();
        this.acceptedSinceCount -= acceptedBefore;
        this.openGauge.set(this.open);
      } catch (err) {
        // The last count stands; the POST itself meets the database problem and says so.
        this.options.logger.debug({ err }, 'could not count the open orders');
      } finally {
        this.counting = undefined;
      }
    })();
    return this.counting;
  }
}
