import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import { LiveUpdates } from '../../src/live-updates';

/** Enough of a response for the event stream: what was written, and a full buffer on demand. */
class FakeResponse extends EventEmitter {
  written: string[] = [];
  writableNeedDrain = false;
  writeHead(): this {
    return this;
  }
  write(chunk: string): boolean {
    this.written.push(chunk);
    return true;
  }
  end(): void {
    this.emit('close');
  }
}

describe('the live updates to open pages', () => {
  test('when a page cannot keep up, then updates are skipped for it instead of queued, and the others get every one', () => {
    const live = new LiveUpdates();
    const slow = new FakeResponse();
    const fast = new FakeResponse();
    live.add(slow as unknown as Response, { n: 0 });
    live.add(fast as unknown as Response, { n: 0 });
    slow.writableNeedDrain = true;

    for (let n = 1; n <= 1_000; n += 1) live.send({ n });

    expect(slow.written).toHaveLength(2);
    expect(fast.written).toHaveLength(1_002);
    expect(live.skipped).toBe(1_000);
  });

  test('when a page closes, then it gets nothing more', () => {
    const live = new LiveUpdates();
    const page = new FakeResponse();
    live.add(page as unknown as Response, undefined);

    page.emit('close');
    live.send({ n: 1 });

    expect(live.size).toBe(0);
    expect(page.written).toEqual(['retry: 2000\n\n']);
  });
});
