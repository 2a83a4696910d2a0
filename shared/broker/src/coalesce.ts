import type { Writable } from 'node:stream';

const coalesced = new WeakSet<Writable>();

/**
 * Makes everything written to `socket` within one turn of the event loop leave in one
 * write. amqplib writes every frame on its own (a publish, an ack, a confirm's method), and
 * with TCP_NODELAY each is a system call and, over loopback, the receiving side's work too:
 * the CPU profile of a busy service showed half its time in `writev`. The socket is
 * corked at a turn's first write and uncorked once the turn's synchronous work is done
 * (`process.nextTick`), which sends the frames of that turn together; nothing waits for a
 * timer, so latency does not grow. Backpressure is unchanged: `write` still returns
 * false past the high-water mark and 'drain' follows the flush.
 */
export function coalesceWrites(socket: Writable): void {
  if (coalesced.has(socket)) return;
  coalesced.add(socket);
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };
  socket.write = ((...args: unknown[]): boolean => {
    if (!corked && !socket.destroyed) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  }) as Writable['write'];
}
