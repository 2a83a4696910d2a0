import amqplib, { type Channel } from 'amqplib';

/**
 * The demo's look at queues over AMQP: depth by passive declare (no management plugin
 * needed), whether a queue exists, and deleting one. A passive declare of a missing queue
 * closes its channel, and a broker restart closes the connection: both are reopened on
 * the next call, so a blip costs a sample, not the run.
 */
export class Queues {
  private connection: amqplib.ChannelModel | undefined;
  private channel: Channel | undefined;

  constructor(private readonly url: string) {}

  /** Messages ready in `queue` (not counting those delivered and not yet acknowledged). */
  async depth(queue: string): Promise<number> {
    const channel = await this.sharedChannel();
    try {
      return (await channel.checkQueue(queue)).messageCount;
    } catch (err) {
      this.channel = undefined;
      throw err;
    }
  }

  async exists(queue: string): Promise<boolean> {
    return this.withChannel(async (channel) => {
      try {
        await channel.checkQueue(queue);
        return true;
      } catch {
        return false;
      }
    });
  }

  /** Deletes a queue, and with it its bindings and the messages in it. */
  async delete(queue: string): Promise<void> {
    await this.withChannel((channel) => channel.deleteQueue(queue));
  }

  async close(): Promise<void> {
    await this.connection?.close().catch(() => undefined);
    this.connection = undefined;
    this.channel = undefined;
  }

  private async open(): Promise<amqplib.ChannelModel> {
    if (!this.connection) {
      const connection = await amqplib.connect(this.url);
      connection.on('error', () => undefined);
      connection.on('close', () => {
        if (this.connection === connection) {
          this.connection = undefined;
          this.channel = undefined;
        }
      });
      this.connection = connection;
    }
    return this.connection;
  }

  private async sharedChannel(): Promise<Channel> {
    if (!this.channel) {
      const channel = await (await this.open()).createChannel();
      channel.on('error', () => undefined);
      channel.on('close', () => {
        if (this.channel === channel) this.channel = undefined;
      });
      this.channel = channel;
    }
    return this.channel;
  }

  private async withChannel<T>(work: (channel: Channel) => Promise<T>): Promise<T> {
    const channel = await (await this.open()).createChannel();
    channel.on('error', () => undefined);
    try {
      return await work(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }
}
