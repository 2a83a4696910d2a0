import { connect, createServer, type Server, type Socket } from 'node:net';
import { TcpProxy, waitFor } from '../../src';

/** A server on the loopback that records what each connection sent and how it ended. */
class RecordingServer {
  readonly connections: { received: string; ended: boolean; closed: boolean }[] = [];
  private readonly sockets = new Set<Socket>();
  private constructor(readonly server: Server) {}

  static async start(): Promise<RecordingServer> {
    const recording = new RecordingServer(createServer());
    recording.server.on('connection', (socket) => {
      const record = { received: '', ended: false, closed: false };
      recording.sockets.add(socket);
      recording.connections.push(record);
      socket.on('data', (chunk) => {
        record.received += chunk.toString();
        socket.write(chunk);
      });
      socket.on('error', () => undefined);
      socket.on('end', () => (record.ended = true));
      socket.on('close', () => (record.closed = true));
    });
    await new Promise<void>((resolve) => recording.server.listen(0, '127.0.0.1', resolve));
    return recording;
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  /** A round trip on a connection of its own: a point by which earlier writes had time to land. */
  async roundTrip(): Promise<void> {
    const socket = await client(this.port);
    socket.write('ping');
    await waitFor('the direct round trip', () => received(socket).includes('ping'));
    socket.destroy();
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const echoes = new WeakMap<Socket, string>();
const received = (socket: Socket): string => echoes.get(socket) ?? '';

async function client(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  echoes.set(socket, '');
  socket.on('data', (chunk) => echoes.set(socket, received(socket) + chunk.toString()));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return socket;
}

describe('TcpProxy', () => {
  let server: RecordingServer;
  let proxy: TcpProxy;
  const sockets: Socket[] = [];

  beforeEach(async () => {
    server = await RecordingServer.start();
    proxy = await TcpProxy.start({ host: '127.0.0.1', port: server.port });
  });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await proxy.close();
    await server.close();
  });

  const through = async (): Promise<Socket> => {
    const socket = await client(proxy.port);
    sockets.push(socket);
    return socket;
  };

  test('when blackholed, then nothing is forwarded and nothing is closed; after restore what was sent flows on', async () => {
    const socket = await through();
    socket.write('a');
    await waitFor('the echo of a', () => received(socket) === 'a');
    let clientSawEnd = false;
    socket.on('end', () => (clientSawEnd = true));

    proxy.blackhole();
    socket.write('b');
    const late = await through();
    late.write('c');
    await server.roundTrip();

    expect(server.connections[0]).toEqual({ received: 'a', ended: false, closed: false });
    // The late connection was accepted by the proxy, but never reached the server.
    expect(server.connections.filter((c) => c.received !== 'ping')).toHaveLength(1);
    expect(received(socket)).toBe('a');
    expect({ clientSawEnd, destroyed: socket.destroyed }).toEqual({
      clientSawEnd: false,
      destroyed: false,
    });
    expect(proxy.stats).toMatchObject({ blackholed: 1, held: 1, refused: 0 });

    proxy.restore();
    await waitFor('the echo of b', () => received(socket) === 'ab');
    await waitFor('the held connection to get through', () => received(late) === 'c');
    expect(server.connections[0]).toMatchObject({ received: 'ab', ended: false });
  });

  test('when a client gives up during a blackhole, then the server hears of it only after restore', async () => {
    const socket = await through();
    socket.write('a');
    await waitFor('the echo of a', () => received(socket) === 'a');

    proxy.blackhole();
    socket.destroy();
    await server.roundTrip();
    expect(server.connections[0]).toMatchObject({ ended: false, closed: false });

    proxy.restore();
    await waitFor('the server to see the connection closed', () => server.connections[0]!.closed);
  });

  test('when cut, then connections are dropped and new ones refused, blackholed or not', async () => {
    const socket = await through();
    proxy.blackhole();
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));

    proxy.cut();
    await closed;
    // Closed at once, possibly before its connect completes.
    const refused = connect(proxy.port, '127.0.0.1');
    sockets.push(refused);
    refused.on('error', () => undefined);
    await new Promise<void>((resolve) => refused.once('close', () => resolve()));

    expect(proxy.stats.refused).toBe(1);
    proxy.restore();
    const again = await through();
    again.write('d');
    await waitFor('the echo of d', () => received(again) === 'd');
  });
});
