import type { Response } from 'express';

/** Clients of the page at once; more are refused rather than held. */
const MAX_CLIENTS = 50;

/**
 * Server-sent events to every open page. Each update is the whole current picture, so a
 * client that cannot keep up (its socket buffer full) simply misses updates: nothing queues
 * up for it, and the next update it does get is complete.
 */
export class LiveUpdates {
  private readonly clients = new Set<Response>();
  skipped = 0;

  /** Opens the event stream on `res`; false when there are too many clients already. */
  add(res: Response, first: unknown): boolean {
    if (this.clients.size >= MAX_CLIENTS) return false;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    if (first !== undefined) res.write(frame(first));
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
    return true;
  }

  send(update: unknown): void {
    if (this.clients.size === 0) return;
    const data = frame(update);
    for (const res of this.clients) {
      if (res.writableNeedDrain) {
        this.skipped += 1;
        continue;
      }
      res.write(data);
    }
  }

  get size(): number {
    return this.clients.size;
  }

  close(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}

function frame(update: unknown): string {
  return `event: state\ndata: ${JSON.stringify(update)}\n\n`;
}
