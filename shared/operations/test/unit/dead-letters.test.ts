import { Registry } from 'prom-client';
import { formatAge, formatTable, truncate } from '../../src/cli/format';
import { deadLetterQueueNames } from '../../src/dead-letters';
import { createMessagingMetrics, type QueueDepth } from '@app/broker';

describe('dead-letter queue names', () => {
  test.each([
    [
      'invoicing.new-order',
      { queue: 'invoicing.new-order', deadQueue: 'invoicing.new-order.dead' },
    ],
    [
      'invoicing.new-order.dead',
      { queue: 'invoicing.new-order', deadQueue: 'invoicing.new-order.dead' },
    ],
  ])('when given %s, then both names follow', (given, expected) => {
    expect(deadLetterQueueNames(given)).toEqual(expected);
  });
});

describe('command-line formatting', () => {
  test.each([
    [undefined, '-'],
    [400, '0s'],
    [45_000, '45s'],
    [192_000, '3m 12s'],
    [2 * 3_600_000 + 5 * 60_000 + 7_000, '2h 5m'],
    [2 * 3_600_000 + 7_000, '2h 0m'],
    [4 * 86_400_000 + 3_600_000, '4d 1h'],
  ])('when an age is %s ms, then it reads %s', (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });

  test('when a last error is long or spans lines, then it is cut to one line with an ellipsis', () => {
    expect(truncate('connection\n  refused by the database server', 20)).toBe(
      'connection refused …',
    );
    expect(truncate(undefined, 20)).toBe('-');
  });

  test('when rows are tabulated, then columns line up under the header', () => {
    expect(
      formatTable(
        ['TYPE', 'REASON'],
        [
          ['NewOrder', 'failed'],
          ['X', 'invalid'],
        ],
      ),
    ).toBe(['TYPE      REASON', 'NewOrder  failed', 'X         invalid'].join('\n'));
  });
});

describe('queue gauges', () => {
  test('when the broker cannot be asked, then dead_letters and queue_depth keep their last values', async () => {
    const registry = new Registry();
    const answers: (QueueDepth[] | undefined)[] = [
      [{ queue: 'invoicing.new-order', ready: 3, dead: 1 }],
      undefined,
    ];
    createMessagingMetrics(
      registry,
      async () => undefined,
      async () => answers.shift(),
    );

    const first = await registry.metrics();
    const second = await registry.metrics();

    for (const text of [first, second]) {
      expect(text).toContain('dead_letters{queue="invoicing.new-order"} 1');
      expect(text).toContain('queue_depth{queue="invoicing.new-order"} 3');
    }
    expect(answers).toEqual([]);
  });
});
