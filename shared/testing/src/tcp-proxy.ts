import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpTarget {
  host: string;
  port: number;
}

/**
 * A TCP proxy on 127.0.0.1 in front of a real server (Postgres, say), so a test can make
 * that server unreachable for one system under test without touching the server itself,
 * which other test files share. `cut()` drops every connection through it and refuses new
 * ones; `blackhole()` keeps every socket open but stops forwarding, as a network that drops
 * packets would; `restore()` lets connections through again.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  /** Each forwarded connection as its client and upstream sockets. */
  private readonly pairs = new Set<[Socket, Socket]>();
  /** Clients accepted while blackholed: not connected upstream until `restore()`. */
  private readonly held = new Set<Socket>();
  private refusing = false;
  private swallowing = false;
  /**
   * Connections accepted and forwarded, refused while cut, held while blackholed, and
   * connections that were open when a blackhole began.
   */
  readonly stats = { forwarded: 0, refused: 0, held: 0, blackholed: 0 };

  private readonly server: Server;
  private listeningOn = 0;

  private constructor(readonly target: TcpTarget) {
    this.server = createServer((client) => this.accept(client));
  }

  /** Listens on a free port of 127.0.0.1 and forwards every connection to `target`. */
  static async start(target: TcpTarget): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => {
        proxy.server.off('error', reject);
        const address = proxy.server.address();
        proxy.listeningOn = typeof address === 'object' && address ? address.port : 0;
        resolve();
      });
    });
    return proxy;
  }

  /** The port the proxy listens on, on 127.0.0.1. */
  get port(): number {
    return this.listeningOn;
  }

  /** `url` (any scheme with host and port, e.g. a DATABASE_URL) rewritten to go through the proxy. */
  proxiedUrl(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  /** Connections open through the proxy right now (each counts its two sides once). */
  get openConnections(): number {
    return this.sockets.size / 2;
  }

  get isCut(): boolean {
    return this.refusing;
  }

  get isBlackholed(): boolean {
    return this.swallowing;
  }

  /** Destroys every current connection and refuses (closes at once) every new one. */
  cut(): void {
    this.refusing = true;
    for (const socket of this.sockets) reset(socket);
    this.sockets.clear();
    this.pairs.clear();
    for (const client of this.held) reset(client);
    this.held.clear();
  }

  /**
   * Stops forwarding in both directions without closing anything (no RST, no FIN): open
   * connections stay open and unanswered, new ones are accepted and then ignored. What the
   * peers send waits in the sockets' buffers, as it would in TCP retransmissions; only
   * heartbeats or timeouts can tell either side that the other is gone.
   */
  blackhole(): void {
    if (this.swallowing) return;
    this.swallowing = true;
    for (const [client, upstream] of this.pairs) {
      this.stats.blackholed += 1;
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /**
   * Ends a cut or a blackhole: new connections are forwarded again, and after a blackhole
   * the connections it held resume (what was buffered meanwhile flows on, and a side that
   * gave up meanwhile now closes the other), as when a network heals.
   */
  restore(): void {
    this.refusing = false;
    if (!this.swallowing) return;
    this.swallowing = false;
    for (const pair of this.pairs) {
      const [client, upstream] = pair;
      if (client.destroyed || upstream.destroyed) {
        // One side gave up during the blackhole; now the other hears of it.
        for (const socket of pair) socket.destroy();
        continue;
      }
      client.pipe(upstream);
      upstream.pipe(client);
    }
    const held = [...this.held];
    this.held.clear();
    for (const client of held) this.forward(client);
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.refusing) {
      this.stats.refused += 1;
      reset(client);
      return;
    }
    if (this.swallowing) {
      this.stats.held += 1;
      client.pause();
      client.on('error', () => undefined);
      client.once('close', () => this.held.delete(client));
      this.held.add(client);
      return;
    }
    this.forward(client);
  }

  private forward(client: Socket): void {
    if (client.destroyed) return;
    this.stats.forwarded += 1;
    const upstream = connect(this.target.port, this.target.host);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    for (const socket of pair) {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      // A reset from either side ends both; the error itself is expected and not the test's.
      socket.on('error', () => undefined);
      socket.once('close', () => {
        this.sockets.delete(socket);
        // While blackholed a close does not travel either (restore() passes it on).
        if (this.swallowing && this.pairs.has(pair)) return;
        this.pairs.delete(pair);
        for (const other of pair) if (other !== socket) other.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

/** Closes a socket abruptly (RST where the platform allows), as a server that went away. */
function reset(socket: Socket): void {
  socket.on('error', () => undefined);
  if (typeof socket.resetAndDestroy === 'function' && socket.readyState !== 'opening') {
    socket.resetAndDestroy();
  } else {
    socket.destroy();
  }
}
