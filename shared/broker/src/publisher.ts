import type { ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel, Message } from 'amqplib';
import type { Logger } from '@app/runtime';
import type { BrokerConnection } from './connection';
import { toPublishOptions, type OutgoingMessage } from './message';
import type { MessagingMetrics } from './metrics';

export interface PublishResult {
  /** True when the broker returned a `mandatory` message: no queue was bound for it. */
  returned: boolean;
}

/**
 * Publishes with publisher confirms. Commands go out `mandatory`, so a command with no
 * recipient queue comes back as returned instead of being confirmed and silently dropped.
 */
export class Publisher {
  private readonly channel: ChannelWrapper;
  private readonly returned = new Set<string>();

  constructor(
    private readonly connection: BrokerConnection,
    private readonly logger: Logger,
    private readonly metrics: MessagingMetrics,
    setup: (channel: ConfirmChannel) => Promise<void>,
    private readonly timeoutMs = 10_000,
  ) {
    this.channel = connection.manager.createChannel({
      name: 'publisher',
      confirm: true,
      publishTimeout: timeoutMs,
      setup: async (channel: ConfirmChannel) => {
        // Without an error listener a channel error would be rethrown as an unhandled event.
        channel.on('error', (err: Error) => this.logger.warn({ err }, 'publisher channel error'));
        channel.on('return', (message: Message) => {
          const id = message.properties.messageId as string | undefined;
          if (id) this.returned.add(id);
        });
        await setup(channel);
      },
    });
    this.channel.on('error', (err: Error) => this.logger.warn({ err }, 'publisher channel error'));
  }

  /** Resolves once the broker confirmed the message; rejects if it was nacked or timed out. */
  async publish(
    message: OutgoingMessage,
    options: { mandatory?: boolean } = {},
  ): Promise<PublishResult> {
    const body = Buffer.from(JSON.stringify(message.payload));
    try {
      await this.channel.publish(message.exchange, message.routingKey, body, {
        ...toPublishOptions(message.properties, this.connection.username),
        mandatory: options.mandatory ?? false,
        timeout: this.timeoutMs,
      });
    } catch (err) {
      this.metrics.published.inc({ type: message.type, outcome: 'failed' });
      throw err;
    }
    // The broker sends basic.return before the confirm, so the flag is set by now.
    const returned = this.returned.delete(message.messageId);
    this.metrics.published.inc({
      type: message.type,
      outcome: returned ? 'returned' : 'confirmed',
    });
    return { returned };
  }

  async waitForConnect(): Promise<void> {
    await this.channel.waitForConnect();
  }

  async close(): Promise<void> {
    await this.channel.close();
  }
}
