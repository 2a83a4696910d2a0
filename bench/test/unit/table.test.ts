import { formatCpu, formatMarkdown, formatMs, formatRate, formatText } from '../../src/table';

const table = {
  header: ['stage', 'p50'],
  rows: [
    ['relay', '2.5'],
    ['end to end', '41'],
  ],
};

describe('table formatting', () => {
  it('when printed as text, then columns are padded and numbers aligned right', () => {
    expect(formatText(table)).toBe(
      ['stage       p50', '----------  ---', 'relay       2.5', 'end to end   41'].join('\n'),
    );
  });

  it('when printed as Markdown, then it is a padded table with right-aligned numbers', () => {
    expect(formatMarkdown(table)).toBe(
      [
        '| stage      | p50 |',
        '| ---------- | --: |',
        '| relay      | 2.5 |',
        '| end to end |  41 |',
      ].join('\n'),
    );
  });

  it('when a cell holds a pipe, then Markdown escapes it', () => {
    expect(formatMarkdown({ header: ['a|b'], rows: [] })).toContain('a\\|b');
  });

  it('when formatting numbers, then small ms keep a decimal and rates are grouped', () => {
    expect(formatMs(2.345)).toBe('2.3');
    expect(formatMs(41.6)).toBe('42');
    expect(formatMs(undefined)).toBe('n/a');
    expect(formatRate(41_250.4)).toBe('41,250');
    expect(formatCpu(87.4)).toBe('87%');
  });
});
