import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { MessagingStyleSchema, ServiceNames, type ServiceName } from '@app/contracts';
import type { Config } from './config';

export const PlaceOrderSchema = z.strictObject({
  style: MessagingStyleSchema.optional(),
  cardToken: z.enum(['tok_visa', 'tok_declined', 'tok_insufficient_funds']).default('tok_visa'),
});

export const BurstSchema = z.strictObject({
  style: MessagingStyleSchema.optional(),
  count: z.int().min(1).max(200).default(200),
});

/**
 * The fault switches the page offers, as settings of `PUT /admin/faults`:
 * slow (every handler waits 1.5 s), failing (every handler fails: retries, then `.dead`),
 * paused (the outbox relay publishes nothing) and off.
 */
export const FaultPresets = {
  off: {},
  slow: { handlerDelayMs: 1_500 },
  failing: { handlerFailAlways: true },
  paused: { relayPaused: true },
} as const;
export const FaultPresetSchema = z.strictObject({
  preset: z.enum(Object.keys(FaultPresets) as [keyof typeof FaultPresets]),
});
export const ServiceNameSchema = z.enum(ServiceNames);

export interface BurstProgress {
  running: boolean;
  requested: number;
  accepted: number;
  failed: number;
}

/** Requests at once during a burst: enough to make a spike, few enough to stay polite. */
const BURST_CONCURRENCY = 16;

/** What the page's buttons do, through the services' own HTTP APIs. */
export class Actions {
  burst: BurstProgress = { running: false, requested: 0, accepted: 0, failed: 0 };

  constructor(private readonly config: Config) {}

  async placeOrder(
    input: z.infer<typeof PlaceOrderSchema>,
  ): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${this.config.serviceUrls.order}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify(sampleOrder(input.style, input.cardToken)),
      signal: AbortSignal.timeout(5_000),
    });
    return { status: response.status, body: await response.json().catch(() => null) };
  }

  /** Starts a burst unless one runs; its progress is in `burst`. */
  startBurst(input: z.infer<typeof BurstSchema>): boolean {
    if (this.burst.running) return false;
    const progress: BurstProgress = {
      running: true,
      requested: input.count,
      accepted: 0,
      failed: 0,
    };
    this.burst = progress;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < input.count) {
        next += 1;
        const style = input.style ?? (next % 2 === 0 ? 'command' : 'event');
        try {
          const { status } = await this.placeOrder({ style, cardToken: 'tok_visa' });
          if (status === 202) progress.accepted += 1;
          else progress.failed += 1;
        } catch {
          progress.failed += 1;
        }
      }
    };
    void Promise.all(Array.from({ length: BURST_CONCURRENCY }, worker)).finally(() => {
      progress.running = false;
    });
    return true;
  }

  async setFaults(
    service: ServiceName,
    preset: keyof typeof FaultPresets,
  ): Promise<{ status: number; body: unknown }> {
    const token = this.config.FAULT_SWITCHES_TOKEN;
    const response = await fetch(`${this.config.serviceUrls[service]}/admin/faults`, {
      method: 'PUT',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(FaultPresets[preset]),
      signal: AbortSignal.timeout(5_000),
    });
    return { status: response.status, body: await response.json().catch(() => null) };
  }
}

const CUSTOMERS = ['ada', 'grace', 'alan', 'edsger', 'barbara', 'donald'];

function sampleOrder(style: string | undefined, cardToken: string) {
  const n = Math.floor(Math.random() * CUSTOMERS.length);
  return {
    customerId: `c-${CUSTOMERS[n]}`,
    items: [
      { sku: 'BOOK-1', quantity: 1 + (n % 3), unitPriceCents: 1250 },
      { sku: 'MUG-7', quantity: 1, unitPriceCents: 899 },
    ],
    shippingAddress: {
      name: 'Ada Lovelace',
      street: '12 St James Square',
      city: 'London',
      postalCode: 'SW1Y 4JH',
      country: 'GB',
    },
    currency: 'EUR',
    ...(style ? { style } : {}),
    payment: { cardToken },
  };
}
