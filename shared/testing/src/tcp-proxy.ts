import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpTarget {
  host: string;
  port: number;
}

/**
 * A TCP proxy on 127.0.0.1 in front of a real server (Postgres, say), so a test can make
 * that server unreachable for one system under test without touching the server itself,
 * which other test files share. `cut()` drops every connection through it and refuses new
 * ones; `restore()` lets connections through again.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private refusing = false;
  /** Connections accepted and forwarded, and connections refused while cut. */
  readonly stats = { forwarded: 0, refused: 0 };

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

  /** Destroys every current connection and refuses (closes at once) every new one. */
  cut(): void {
    this.refusing = true;
    for (const socket of this.sockets) reset(socket);
    this.sockets.clear();
  }

  /** Forwards new connections again. */
  restore(): void {
    this.refusing = false;
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
    this.stats.forwarded += 1;
    const upstream = connect(this.target.port, this.target.host);
    const pair = [client, upstream];
    for (const socket of pair) {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      // A reset from either side ends both; the error itself is expected and not the test's.
      socket.on('error', () => undefined);
      socket.once('close', () => {
        this.sockets.delete(socket);
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
