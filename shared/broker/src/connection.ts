import amqp, { type AmqpConnectionManager } from 'amqp-connection-manager';
import type { ChannelModel } from 'amqplib';
import { Writable } from 'node:stream';
import { splitUrlList, type Logger } from '@app/runtime';
import { coalesceWrites } from './coalesce';

export interface BrokerConnectionOptions {
  /**
   * The broker's URL, or a cluster's nodes comma-separated: amqp-connection-manager tries
   * them in turn, so a connection lost with its node comes back on another.
   */
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
  /** The URLs tried in turn (one unless a cluster's nodes were given). */
  readonly urls: string[];
  /** `host:port` of the node connected to now; undefined while disconnected. */
  node: string | undefined;
  private readonly logger: Logger;
  private lastError: string | undefined = 'not connected yet';
  private connections = 0;
  private failuresInARow = 0;
  private lastNode: string | undefined;
  private readonly connectListeners: ((event: { node: string; reconnect: boolean }) => void)[] = [];

  constructor(options: BrokerConnectionOptions) {
    const { connectionName, logger } = options;
    const minDelay = options.minReconnectSeconds ?? 0.5;
    const maxDelay = options.maxReconnectSeconds ?? 10;
    this.logger = logger;
    this.urls = splitUrlList(options.url);
    const url = this.urls[0] ?? options.url;
    this.username = decodeURIComponent(new URL(url).username || 'guest');
    this.manager = amqp.connect(this.urls, {
      heartbeatIntervalInSeconds: options.heartbeatSeconds ?? 5,
      reconnectTimeInSeconds: minDelay,
      // TCP_NODELAY: without it Nagle's algorithm holds a publish's frames back until the
      // broker's delayed ACK (~40 ms), which was most of the relay's latency (make bench).
      connectionOptions: { noDelay: true, clientProperties: { connection_name: connectionName } },
    });
    this.manager.on('connect', ({ connection, url: connected }) => {
      // amqplib's connection writes to `stream`, the socket (see coalesce.ts).
      const socket: unknown = (connection as { connection?: { stream?: unknown } }).connection
        ?.stream;
      if (socket instanceof Writable) coalesceWrites(socket);
      const previous = this.lastNode;
      const node = nodeOf(connected, url);
      this.lastError = undefined;
      this.failuresInARow = 0;
      this.manager.reconnectTimeInSeconds = minDelay;
      this.connections += 1;
      const reconnect = this.connections > 1;
      this.node = node;
      this.lastNode = node;
      if (reconnect && previous !== undefined && previous !== node) {
        this.logger.warn(
          { from: previous, to: node },
          'broker failover: connected to another node',
        );
      } else {
        this.logger.info({ broker: redact(connected, url), reconnect }, 'broker connected');
      }
      for (const listener of this.connectListeners) listener({ node, reconnect });
    });
    this.manager.on('disconnect', ({ err }) => {
      this.lastError = err?.message ?? 'disconnected';
      this.node = undefined;
      this.logger.warn(
        { err, broker: this.lastNode ?? redact(url) },
        'broker connection lost; reconnecting',
      );
    });
    this.manager.on('connectFailed', ({ err, url: attempted }) => {
      this.lastError = err?.message ?? 'connect failed';
      this.failuresInARow += 1;
      // Back off only once every node has been tried: a node that is down should not
      // delay the move to the next one.
      if (this.failuresInARow >= this.urls.length) {
        this.manager.reconnectTimeInSeconds = Math.min(
          maxDelay,
          this.manager.reconnectTimeInSeconds * 2,
        );
      }
      this.logger.warn(
        {
          err: { message: err?.message },
          broker: redact(attempted, url),
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

  /** Hears every connection made: the first (`reconnect` false) and each one after a loss. */
  onConnect(listener: (event: { node: string; reconnect: boolean }) => void): void {
    this.connectListeners.push(listener);
  }

  /** Connections made after the first one: each lost connection that came back counts once. */
  get reconnects(): number {
    return Math.max(0, this.connections - 1);
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

/** `host:port` of the URL a connection was made to, for logs and the current-node gauge. */
function nodeOf(url: unknown, fallback: string): string {
  try {
    const parsed = new URL(typeof url === 'string' ? url : fallback);
    return `${parsed.hostname}:${parsed.port || (parsed.protocol === 'amqps:' ? 5671 : 5672)}`;
  } catch {
    return 'unknown';
  }
}

/** The URL without its password, for logs. */
export function redact(url: unknown, fallback = ''): string {
  try {
    const parsed = new URL(typeof url === 'string' ? url : fallback);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable url)';
  }
}
