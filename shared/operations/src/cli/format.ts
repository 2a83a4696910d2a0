import type { DeadLetter } from '../dead-letters';

/** A duration the way an operator reads it: `45s`, `3m 12s`, `2h 5m`, `4d 1h`. */
export function formatAge(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const units: [string, number][] = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of units) {
    const amount = Math.floor(rest / size);
    rest -= amount * size;
    if (amount > 0 || (parts.length > 0 && parts.length < 2)) parts.push(`${amount}${unit}`);
    if (parts.length === 2) break;
  }
  return parts.length > 0 ? parts.join(' ') : '0s';
}

/** `text` on one line, cut to `max` characters with an ellipsis. */
export function truncate(text: string | undefined, max: number): string {
  if (!text) return '-';
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Rows as left-aligned columns under a header line. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const LAST_ERROR_WIDTH = 60;

/** The `list` table: one dead letter a line. */
export function formatDeadLetters(entries: DeadLetter[]): string {
  return formatTable(
    ['TYPE', 'MESSAGE ID', 'CORRELATION ID', 'REASON', 'AGE', 'ATTEMPTS', 'LAST ERROR'],
    entries.map((entry) => [
      entry.type ?? '-',
      entry.messageId ?? '-',
      entry.correlationId ?? '-',
      entry.reason,
      formatAge(entry.ageMs),
      entry.attempts === undefined ? '-' : String(entry.attempts),
      truncate(entry.lastError, LAST_ERROR_WIDTH),
    ]),
  );
}
