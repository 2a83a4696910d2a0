/** A table of strings: a header row and the body rows, each as long as the header. */
export interface Table {
  header: string[];
  rows: string[][];
  /** Columns aligned right (numbers); by default every column but the first. */
  alignRight?: boolean[];
}

const rightAligned = (table: Table, column: number): boolean =>
  table.alignRight?.[column] ?? column > 0;

const widthsOf = (table: Table): number[] =>
  table.header.map((cell, column) =>
    Math.max(cell.length, ...table.rows.map((row) => (row[column] ?? '').length)),
  );

const pad = (text: string, width: number, right: boolean): string =>
  right ? text.padStart(width) : text.padEnd(width);

/** A plain-text table for the terminal, columns padded, a rule under the header. */
export function formatText(table: Table): string {
  const widths = widthsOf(table);
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) => pad(cell, widths[column] ?? 0, rightAligned(table, column)))
      .join('  ')
      .trimEnd();
  return [
    line(table.header),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...table.rows.map((row) => line(row)),
  ].join('\n');
}

/** A GitHub-flavoured Markdown table, padded so that it reads as text too (as prettier does). */
export function formatMarkdown(table: Table): string {
  const widths = widthsOf(table).map((width) => Math.max(3, width));
  const escape = (cell: string): string => cell.replace(/\|/g, '\\|');
  const line = (cells: string[]): string =>
    `| ${cells
      .map((cell, column) => pad(escape(cell), widths[column] ?? 0, rightAligned(table, column)))
      .join(' | ')} |`;
  const rule = `| ${widths
    .map((width, column) =>
      rightAligned(table, column) ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width),
    )
    .join(' | ')} |`;
  return [line(table.header), rule, ...table.rows.map((row) => line(row))].join('\n');
}

/** Milliseconds for a table: one decimal below 10, whole numbers above. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return 'n/a';
  return Math.abs(ms) < 10 ? ms.toFixed(1) : Math.round(ms).toString();
}

/** A rate for a table: whole numbers, thousands grouped (`41,250`). */
export function formatRate(rate: number | undefined): string {
  if (rate === undefined || !Number.isFinite(rate)) return 'n/a';
  return Math.round(rate).toLocaleString('en-US');
}

/** A CPU share of one core as a percentage (`87%`). */
export const formatCpu = (percent: number | undefined): string =>
  percent === undefined ? 'n/a' : `${Math.round(percent)}%`;
