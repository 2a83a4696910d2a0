import amqplib from 'amqplib';
import { Exchanges, Messages } from '@app/contracts';
import type { PublishedMessage } from './trail';

/**
 * Watches every exchange of the contract through exclusive queues of its own, bound with
 * each routing key the catalog names, and records each message with the time it was seen.
 * The queues go away with the connection. While it listens, a command is routable even
 * with its recipient down, so it is opened only for the two-styles scenario.
 */
export class TrailSpy {
  readonly seen: PublishedMessage[] = [];

  private constructor(private readonly connection: amqplib.ChannelModel) {}

  static async open(url: string): Promise<TrailSpy> {
    const connection = await amqplib.connect(url);
    connection.on('error', () => undefined);
    const spy = new TrailSpy(connection);
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    for (const exchange of Object.values(Exchanges)) {
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
      const keys = new Set(
        Object.values(Messages)
          .filter((message) => message.exchange === exchange.name)
          .map((message) => message.routingKey),
      );
      for (const key of keys) await channel.bindQueue(queue, exchange.name, key);
      await channel.consume(
        queue,
        (raw) => {
          if (!raw) return;
          const { properties, fields } = raw;
          const causation = properties.headers?.['x-causation-id'];
          spy.seen.push({
            at: Date.now(),
            exchange: fields.exchange,
            routingKey: fields.routingKey,
            type: String(properties.type ?? '?'),
            from: String(properties.appId ?? '?'),
            messageId: String(properties.messageId ?? '?'),
            correlationId: String(properties.correlationId ?? '?'),
            ...(typeof causation === 'string' ? { causationId: causation } : {}),
          });
        },
        { noAck: true },
      );
    }
    return spy;
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }
}
