import { randomBytes, randomUUID } from 'node:crypto';
import amqplib, { type ConfirmChannel, type Message, type Options } from 'amqplib';
import {
  Exchanges,
  JSON_CONTENT_TYPE,
  Messages,
  type MessageType,
  type PayloadOf,
} from '@app/contracts';
import { declareObserverQueue } from '@app/broker';
import { waitFor } from './wait';

export interface ReceivedMessage {
  type: string;
  body: unknown;
  raw: Message;
}

/** A spy queue bound to an exchange; it records what arrives. */
export interface Spy {
  queue: string;
  messages: ReceivedMessage[];
  /** Resolves once at least `count` messages arrived (optionally matching). */
  waitForCount(
    count: number,
    match?: (message: ReceivedMessage) => boolean,
  ): Promise<ReceivedMessage[]>;
}

/**
 * The test's own AMQP client on a test vhost: publishes messages as any service would
 * (or malformed ones), watches exchanges and inspects queues.
 */
export class TestBroker {
  private constructor(
    private readonly connection: amqplib.ChannelModel,
    private readonly channel: ConfirmChannel,
    /** The broker user this client connected as; the `userId` its messages carry. */
    readonly user: string,
  ) {}

  static async connect(url: string): Promise<TestBroker> {
    const connection = await amqplib.connect(url);
    connection.on('error', () => undefined);
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => undefined);
    return new TestBroker(
      connection,
      channel,
      decodeURIComponent(new URL(url).username || 'guest'),
    );
  }

  /** Declares every exchange of the contract, as the owning services would. */
  async declareExchanges(): Promise<void> {
    for (const exchange of Object.values(Exchanges)) {
      await this.channel.assertExchange(exchange.name, exchange.type, { durable: true });
    }
  }

  /** Declares and binds the dashboard's observer queue, as the broker definitions do. */
  async declareObserverQueue(): Promise<void> {
    await declareObserverQueue(this.channel);
  }

  /** Publishes a message of the contract with correct properties; override any of them. */
  async publishMessage<T extends MessageType>(
    type: T,
    payload: PayloadOf<T> | Record<string, unknown>,
    properties: Partial<Options.Publish> = {},
  ): Promise<string> {
    const definition = Messages[type];
    const messageId = properties.messageId ?? randomUUID();
    const correlationId =
      (payload as { orderId?: string }).orderId ?? properties.correlationId ?? randomUUID();
    await this.publishRaw(
      definition.exchange,
      definition.routingKey,
      Buffer.from(JSON.stringify(payload)),
      {
        contentType: JSON_CONTENT_TYPE,
        persistent: true,
        type,
        correlationId,
        appId: definition.senders[0],
        userId: this.user,
        timestamp: Math.floor(Date.now() / 1000),
        headers: {
          traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
        },
        ...properties,
        messageId,
      },
    );
    return messageId;
  }

  async publishRaw(
    exchange: string,
    routingKey: string,
    body: Buffer,
    options: Options.Publish,
  ): Promise<void> {
    this.channel.publish(exchange, routingKey, body, options);
    await this.channel.waitForConfirms();
  }

  async spy(exchange: string, routingKey = '#'): Promise<Spy> {
    const { queue } = await this.channel.assertQueue('', { exclusive: true, autoDelete: true });
    await this.channel.bindQueue(queue, exchange, routingKey);
    const messages: ReceivedMessage[] = [];
    await this.channel.consume(
      queue,
      (raw) => {
        if (!raw) return;
        messages.push({ type: String(raw.properties.type), body: parse(raw.content), raw });
      },
      { noAck: true },
    );
    return {
      queue,
      messages,
      waitForCount: (count, match = () => true) =>
        waitFor(`${count} message(s) on ${exchange}`, () => {
          const found = messages.filter(match);
          return found.length >= count ? found : undefined;
        }),
    };
  }

  /**
   * One spy queue bound to every message of the contract where it is sent (each event's
   * and command's exchange and routing key, and the replies exchange): what went over the
   * wire, for the ledger's count of message ids per order and type. Every exchange must
   * exist (a running system of all services declared them).
   */
  async spyOnEverything(): Promise<Spy> {
    const spy = await this.spy(Exchanges.orderEvents.name);
    for (const message of Object.values(Messages)) {
      await this.channel.bindQueue(spy.queue, message.exchange, message.routingKey);
    }
    return spy;
  }

  /** Deletes a queue under its consumers, as an operator's mistake or a lost node would. */
  async deleteQueue(queue: string): Promise<void> {
    await this.channel.deleteQueue(queue);
  }

  /** Declares a queue as given (for a test that needs a queue the services would not make). */
  async declareQueue(queue: string, options: Options.AssertQueue = {}): Promise<void> {
    await this.channel.assertQueue(queue, options);
  }

  /**
   * Consumers registered on a queue right now, or undefined when it does not exist
   * (asked on a channel of its own: the broker closes the channel of a failed check).
   */
  async consumers(queue: string): Promise<number | undefined> {
    const channel = await this.connection.createChannel();
    channel.on('error', () => undefined);
    try {
      return (await channel.checkQueue(queue)).consumerCount;
    } catch {
      return undefined;
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /** Messages waiting in a queue (passive declare: no management plugin needed). */
  async depth(queue: string): Promise<number> {
    return (await this.channel.checkQueue(queue)).messageCount;
  }

  /** Takes every message now in `queue` (acknowledging them). */
  async drain(queue: string): Promise<ReceivedMessage[]> {
    const taken: ReceivedMessage[] = [];
    for (;;) {
      const raw = await this.channel.get(queue, { noAck: true });
      if (!raw) return taken;
      taken.push({ type: String(raw.properties.type), body: parse(raw.content), raw });
    }
  }

  /** The messages waiting in `queue`, left in it (taken unacknowledged, then handed back). */
  async peek(queue: string): Promise<ReceivedMessage[]> {
    const taken: ReceivedMessage[] = [];
    const { messageCount } = await this.channel.checkQueue(queue);
    while (taken.length < messageCount) {
      const raw = await this.channel.get(queue, { noAck: false });
      if (!raw) break;
      taken.push({ type: String(raw.properties.type), body: parse(raw.content), raw });
    }
    for (const message of taken) this.channel.nack(message.raw, false, true);
    await this.channel.checkQueue(queue);
    return taken;
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }
}

function parse(content: Buffer): unknown {
  try {
    return JSON.parse(content.toString('utf8'));
  } catch {
    return content.toString('utf8');
  }
}
