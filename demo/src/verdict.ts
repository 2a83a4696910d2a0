import type { ScenarioResult } from './scenario';

/** A scenario passes when it finished and had checks, and every one of them held. */
export function hasPassed(result: Pick<ScenarioResult, 'checks' | 'error'>): boolean {
  return (
    result.error === undefined &&
    result.checks.length > 0 &&
    result.checks.every((check) => check.passed)
  );
}

/** 0 only if at least one scenario ran and every scenario passed. */
export function exitCodeOf(results: Pick<ScenarioResult, 'checks' | 'error'>[]): number {
  return results.length > 0 && results.every(hasPassed) ? 0 : 1;
}

/** The verdict line printed after a scenario. */
export function verdictLine(result: ScenarioResult): string {
  const seconds = (result.durationMs / 1000).toFixed(1);
  if (hasPassed(result)) {
    return `PASS  ${result.title}: ${result.headline} (${seconds} s)`;
  }
  const failed = result.checks.filter((check) => !check.passed);
  const why =
    result.error ??
    (failed.length > 0
      ? failed.map((check) => check.name + (check.detail ? ` (${check.detail})` : '')).join('; ')
      : 'no checks ran');
  return `FAIL  ${result.title}: ${why} (${seconds} s)`;
}

/**
 * A plain-text table: columns padded to their widest cell, cells longer than a column's
 * limit wrapped at spaces onto extra lines.
 */
export function textTable(header: string[], rows: string[][], limits: number[] = []): string {
  const wrap = (text: string, limit = Infinity): string[] => {
    const lines: string[] = [];
    let line = '';
    for (const word of text.split(' ')) {
      if (line && line.length + 1 + word.length > limit) {
        lines.push(line);
        line = word;
      } else {
        line = line ? `${line} ${word}` : word;
      }
    }
    lines.push(line);
    return lines;
  };
  const wrapped = [header, ...rows].map((row) => row.map((cell, i) => wrap(cell, limits[i])));
  const widths = header.map((_, i) =>
    Math.max(...wrapped.flatMap((row) => (row[i] ?? ['']).map((line) => line.length))),
  );
  const render = (row: string[][]): string[] => {
    const height = Math.max(...row.map((cell) => cell.length));
    return Array.from({ length: height }, (_, lineNo) =>
      row
        .map((cell, i) => (cell[lineNo] ?? '').padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
  };
  const [head, ...body] = wrapped;
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [...render(head ?? []), rule, ...body.flatMap(render)].join('\n');
}

/** The summary table printed at the end of the run. */
export function summaryTable(results: ScenarioResult[]): string {
  return textTable(
    ['#', 'scenario', 'what it showed', 'numbers', 'result'],
    results.map((result, i) => [
      String(i + 1),
      result.title,
      result.summary,
      result.error ? `error: ${result.error}` : result.headline,
      hasPassed(result) ? 'PASS' : 'FAIL',
    ]),
    [2, 20, 36, 56, 6],
  );
}

const escapeCell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The report's Markdown: the summary table, then each scenario's numbers, checks and charts. */
export function summaryMarkdown(
  results: ScenarioResult[],
  meta: { startedAt: Date; durationMs: number; environment: string[] },
): string {
  const passedCount = results.filter(hasPassed).length;
  const lines = [
    '# Asynchronous messaging: workshop demo report',
    '',
    `Run ${meta.startedAt.toISOString()}, ${(meta.durationMs / 1000).toFixed(0)} s; ` +
      `**${passedCount} of ${results.length} scenarios passed**.`,
    '',
    ...meta.environment.map((line) => `- ${line}`),
    '',
    '| # | scenario | what it showed | numbers | result |',
    '|---|---|---|---|---|',
    ...results.map(
      (result, i) =>
        `| ${i + 1} | ${escapeCell(result.title)} | ${escapeCell(result.summary)} | ` +
        `${escapeCell(result.error ? `error: ${result.error}` : result.headline)} | ` +
        `${hasPassed(result) ? 'PASS' : '**FAIL**'} |`,
    ),
  ];
  results.forEach((result, i) => {
    lines.push('', `## ${i + 1}. ${result.title}`, '', result.shows, '');
    if (result.error) lines.push(`**Could not finish:** ${result.error}`, '');
    if (result.figures.length > 0) {
      lines.push('| measured | value |', '|---|---|');
      for (const figure of result.figures) {
        lines.push(`| ${escapeCell(figure.label)} | ${escapeCell(figure.value)} |`);
      }
      lines.push('');
    }
    for (const item of result.checks) {
      lines.push(
        `- ${item.passed ? '✅' : '❌'} ${item.name}${item.detail ? ` (${item.detail})` : ''}`,
      );
    }
    for (const file of result.chartFiles.filter((name) => name.endsWith('.png'))) {
      lines.push('', `![${file}](${file})`);
    }
    for (const detail of result.details ?? []) {
      lines.push('', `**${detail.title}**`, '', '```text', ...detail.lines, '```');
    }
  });
  return `${lines.join('\n')}\n`;
}
