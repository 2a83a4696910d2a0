import amqp, { type AmqpConnectionManager } from 'amqp-connection-manager';
import type { ChannelModel } from 'amqplib';
import type { Logger } from '@app/runtime';

export interface BrokerConnectionOptions {
  url: string;
  /** Shown in the broker's connection list (`rabbitmqctl list_connections client_properties`). */
  connectionName: string;
  logger: Logger;
  /**
   * The heartbeat asked of the broker (default 5). Only heartbeats notice a connection the
   * network left half-open; 0 takes the broker's (RabbitMQ: 60 s).
   */
  heartbeatSeconds?: number;
  /** Reconnect delays grow from `minReconnectSeconds` to `maxReconnectSeconds`. */
  minReconnectSeconds?: number;
  maxReconnectSeconds?: number;
}

/**
 * One AMQP connection per process, reconnected by amqp-connection-manager. Channels
 * created from it re-run their setup (topology, consumers) after every reconnect.
 */
export class BrokerConnection {
  readonly manager: AmqpConnectionManager;
  /** The broker user, which RabbitMQ compares with each published message's `userId`. */
  readonly username: string;
  private readonly logger: Logger;
  private lastError: string | undefined = 'not connected yet';

  constructor(options: BrokerConnectionOptions) {
    const { url, connectionName, logger } = options;
    const minDelay = options.minReconnectSeconds ?? 0.5;
    const maxDelay = options.maxReconnectSeconds ?? 10;
    this.logger = logger;
    this.username = decodeURIComponent(new URL(url).username || 'guest');
    this.manager = amqp.connect([url], {
      heartbeatIntervalInSeconds: options.heartbeatSeconds ?? 5,
      reconnectTimeInSeconds: minDelay,
      // TCP_NODELAY: without it Nagle's algorithm holds a publish's frames back until the
      // broker's delayed ACK (~40 ms), which was most of the relay's latency (make bench).
      connectionOptions: { noDelay: true, clientProperties: { connection_name: connectionName } },
    });
    this.manager.on('connect', () => {
      this.lastError = undefined;
      this.manager.reconnectTimeInSeconds = minDelay;
      this.logger.info({ broker: redact(url) }, 'broker connected');
    });
    this.manager.on('disconnect', ({ err }) => {
      this.lastError = err?.message ?? 'disconnected';
      this.logger.warn({ err, broker: redact(url) }, 'broker connection lost; reconnecting');
    });
    this.manager.on('connectFailed', ({ err }) => {
      this.lastError = err?.message ?? 'connect failed';
      this.manager.reconnectTimeInSeconds = Math.min(
        maxDelay,
        this.manager.reconnectTimeInSeconds * 2,
      );
      this.logger.warn(
        {
          err: { message: err?.message },
          broker: redact(url),
          retryInSeconds: this.manager.reconnectTimeInSeconds,
        },
        'broker unreachable; retrying',
      );
    });
    this.manager.on('blocked', ({ reason }) =>
      this.logger.warn({ reason }, 'broker blocked publishing'),
    );
    this.manager.on('unblocked', () => this.logger.info('broker unblocked publishing'));
  }

  isConnected(): boolean {
    return this.manager.isConnected();
  }

  /** Why the connection is down, for `/health/ready`; undefined while connected. */
  problem(): string | undefined {
    return this.isConnected() ? undefined : (this.lastError ?? 'disconnected');
  }

  /**
   * The current connection as amqplib's promise API, for throwaway channels (passive
   * checks that may close their channel); undefined while disconnected.
   */
  channelModel(): ChannelModel | undefined {
    const connection: unknown = this.manager.connection;
    return isChannelModel(connection) ? connection : undefined;
  }

  async close(): Promise<void> {
    await this.manager.close();
  }
}

/**
 * amqp-connection-manager types its connection with amqplib's older callback-era type;
 * at run time it holds the promise API's ChannelModel, which this checks.
 */
function isChannelModel(connection: unknown): connection is ChannelModel {
  return (
    typeof connection === 'object' &&
    connection !== null &&
    typeof (connection as { createChannel?: unknown }).createChannel === 'function'
  );
}

/** The URL without its password, for logs. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable url)';
  }
}
