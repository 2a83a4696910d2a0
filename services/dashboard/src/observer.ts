import type { Channel, ConsumeMessage } from 'amqplib';
import { BrokerConnection, ObserverQueue } from '@app/broker';
import type { Logger } from '@app/runtime';
import type { Trails } from './trails';

export interface ObserverState {
  state: 'consuming' | 'connecting' | 'queue missing' | 'refused';
  detail?: string;
  seenTotal: number;
  /** Messages seen per second over the last sample. */
  ratePerSecond: number;
}

/** Deliveries unacknowledged at once: what the dashboard holds in memory while it reads. */
const PREFETCH = 200;
const RETRY_MS = 5_000;

/**
 * Reads the observer queue as the dashboard's read-only broker user: records each
 * message's properties (never its body) in the trails and acknowledges it. Acknowledging
 * needs only the read permission. When the queue is missing (the broker definitions were
 * not imported) or the broker is down it says so and tries again; the rest of the page
 * does not depend on it.
 */
export class Observer {
  private readonly connection: BrokerConnection;
  private channel: Channel | undefined;
  private opening = false;
  private stopped = false;
  private timer: NodeJS.Timeout;
  private current: Omit<ObserverState, 'seenTotal' | 'ratePerSecond'> = { state: 'connecting' };
  private lastCount = 0;
  private lastAt = Date.now();
  private rate = 0;

  constructor(
    url: string,
    private readonly trails: Trails,
    private readonly logger: Logger,
  ) {
    this.connection = new BrokerConnection({ url, connectionName: 'dashboard', logger });
    this.connection.manager.on('connect', () => void this.open());
    this.connection.manager.on('disconnect', () => {
      this.channel = undefined;
      this.current = { state: 'connecting', detail: this.connection.problem() };
    });
    this.timer = setInterval(() => {
      if (!this.channel) void this.open();
    }, RETRY_MS);
    this.timer.unref();
  }

  state(): ObserverState {
    const now = Date.now();
    if (now - this.lastAt >= 900) {
      this.rate = ((this.trails.seenTotal - this.lastCount) * 1000) / (now - this.lastAt);
      this.lastCount = this.trails.seenTotal;
      this.lastAt = now;
    }
    return {
      ...this.current,
      ...(this.current.state === 'connecting' && this.connection.problem()
        ? { detail: this.connection.problem() }
        : {}),
      seenTotal: this.trails.seenTotal,
      ratePerSecond: Math.round(this.rate * 10) / 10,
    };
  }

  private async open(): Promise<void> {
    const model = this.connection.channelModel();
    if (this.stopped || this.opening || this.channel || !model) return;
    this.opening = true;
    try {
      const channel = await model.createChannel();
      channel.on('error', (err: Error) => {
        this.current = {
          state: /NOT_FOUND/.test(err.message) ? 'queue missing' : 'refused',
          detail: err.message,
        };
        this.logger.warn({ err: { message: err.message } }, 'observer channel closed');
      });
      channel.on('close', () => {
        if (this.channel === channel) this.channel = undefined;
      });
      await channel.prefetch(PREFETCH);
      await channel.consume(ObserverQueue.name, (delivery) => {
        if (delivery) this.seen(channel, delivery);
      });
      this.channel = channel;
      this.current = { state: 'consuming' };
      this.logger.info({ queue: ObserverQueue.name }, 'observing');
    } catch (err) {
      this.logger.debug({ err }, 'observer could not consume yet');
    } finally {
      this.opening = false;
    }
  }

  private seen(channel: Channel, delivery: ConsumeMessage): void {
    const { properties, fields } = delivery;
    const causation = properties.headers?.['x-causation-id'];
    const stamp = properties.headers?.['x-timestamp-ms'];
    this.trails.record({
      at: typeof stamp === 'number' ? stamp : Date.now(),
      type: String(properties.type ?? 'unknown').slice(0, 64),
      from: String(properties.appId ?? properties.userId ?? 'unknown').slice(0, 64),
      exchange: fields.exchange,
      routingKey: fields.routingKey,
      messageId: String(properties.messageId ?? '').slice(0, 64),
      correlationId: String(properties.correlationId ?? 'none').slice(0, 64),
      ...(typeof causation === 'string' ? { causationId: causation.slice(0, 64) } : {}),
    });
    try {
      channel.ack(delivery);
    } catch {
      // The channel closed meanwhile: the broker gives the message to the next channel.
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.channel?.close().catch(() => undefined);
    await this.connection.close();
  }
}
