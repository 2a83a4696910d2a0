import type { ScenarioResult } from '../../src/scenario';
import {
  exitCodeOf,
  hasPassed,
  summaryMarkdown,
  summaryTable,
  textTable,
  verdictLine,
} from '../../src/verdict';

const aResult = (overrides: Partial<ScenarioResult> = {}): ScenarioResult => ({
  id: 'buffering',
  title: 'Buffering',
  shows: 'a spike is absorbed',
  summary: 'spike absorbed',
  headline: 'peak 212, 300/300 invoiced',
  figures: [{ label: 'peak depth', value: '212 messages' }],
  checks: [{ name: 'every order invoiced', passed: true }],
  chartFiles: ['buffering-queue-depth.png', 'buffering-queue-depth.svg'],
  durationMs: 12_345,
  ...overrides,
});

describe('verdict', () => {
  test('when every check held, then the scenario passes', () => {
    expect(hasPassed(aResult())).toBe(true);
  });

  test('when one check failed, then the scenario fails', () => {
    const result = aResult({
      checks: [
        { name: 'a', passed: true },
        { name: 'b', passed: false },
      ],
    });
    expect(hasPassed(result)).toBe(false);
  });

  test('when a scenario had no checks or broke off with an error, then it fails', () => {
    expect(hasPassed(aResult({ checks: [] }))).toBe(false);
    expect(hasPassed(aResult({ error: 'broker gone' }))).toBe(false);
  });

  test('when every scenario passed, then the exit code is 0, otherwise 1, and 1 for no scenario at all', () => {
    expect(exitCodeOf([aResult(), aResult()])).toBe(0);
    expect(exitCodeOf([aResult(), aResult({ error: 'x' })])).toBe(1);
    expect(exitCodeOf([])).toBe(1);
  });

  test('when a scenario fails, then its verdict line names the failed checks and what was seen', () => {
    const line = verdictLine(
      aResult({ checks: [{ name: 'every order invoiced', passed: false, detail: '299 of 300' }] }),
    );
    expect(line).toBe('FAIL  Buffering: every order invoiced (299 of 300) (12.3 s)');
  });

  test('when a scenario passes, then its verdict line carries its headline', () => {
    expect(verdictLine(aResult())).toBe('PASS  Buffering: peak 212, 300/300 invoiced (12.3 s)');
  });
});

describe('summary table', () => {
  test('when a cell is longer than its column limit, then it wraps at spaces onto more lines', () => {
    const table = textTable(['a', 'b'], [['one two three', 'x']], [7, 5]);
    expect(table.split('\n')).toEqual(['a        b', '-------  -', 'one two  x', 'three']);
  });

  test('when results are summarised, then each scenario has its row with number, title and result', () => {
    const table = summaryTable([aResult(), aResult({ title: 'Scale', error: 'timed out' })]);
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^#\s+scenario\s+what it showed\s+numbers\s+result$/);
    expect(table).toMatch(/1\s+Buffering\s+spike absorbed\s+peak 212, 300\/300 invoiced\s+PASS/);
    expect(table).toMatch(/2\s+Scale\s+.*error: timed out\s+FAIL/);
  });

  test('when the report is written, then it has the table, the checks, and the PNG charts embedded', () => {
    const markdown = summaryMarkdown(
      [aResult({ details: [{ title: 'trail', lines: ['1. order -> order.events'] }] })],
      { startedAt: new Date('2024-05-01T12:00:00Z'), durationMs: 95_000, environment: ['node 20'] },
    );
    expect(markdown).toContain('**1 of 1 scenarios passed**');
    expect(markdown).toContain(
      '| 1 | Buffering | spike absorbed | peak 212, 300/300 invoiced | PASS |',
    );
    expect(markdown).toContain('- ✅ every order invoiced');
    expect(markdown).toContain('![buffering-queue-depth.png](buffering-queue-depth.png)');
    expect(markdown).not.toContain('.svg)');
    expect(markdown).toContain('```text\n1. order -> order.events\n```');
  });

  test('when a cell holds a pipe, then the Markdown table escapes it', () => {
    const markdown = summaryMarkdown([aResult({ headline: 'a | b' })], {
      startedAt: new Date(),
      durationMs: 1,
      environment: [],
    });
    expect(markdown).toContain('a \\| b');
  });
});
