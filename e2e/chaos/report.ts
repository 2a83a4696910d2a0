import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FAULT_KINDS } from './faults';
import {
  chaosReportName,
  faultCounts,
  faultLine,
  problems,
  seconds,
  type ChaosResult,
} from './chaos';
import { STYLES } from './load';

/** The fault timeline and the ledger as plain text, for the console. */
export function chaosSummary(result: ChaosResult): string {
  const found = problems(result);
  return [
    `chaos run, seed ${result.seed} (CHAOS_SEED=${result.seed} replays the schedule): ` +
      `${result.options.orders} orders, ${result.timeline.length} faults, ${seconds(result.durationMs.total)}`,
    '',
    'fault timeline (at: seconds since the load began; held: down, cut or closing; recovered: back and ready after):',
    ...result.timeline.map((fault) => `  ${faultLine(fault)}`),
    '',
    `faults: ${FAULT_KINDS.map((kind) => `${kind} ${countOf(result, kind)}`).join(', ')}`,
    `load: ${result.load.accepted}/${result.options.orders} accepted in ${seconds(result.load.durationMs)}, ` +
      `${result.load.retriedOrders} needed a retry (at most ${result.load.maxAttempts} POSTs), ` +
      `answers retried: ${JSON.stringify(result.load.retriedAnswers)}`,
    ...Object.values(result.load.firstAnswers).map((answer) => `  first ${answer}`),
    ...STYLES.map((style) => `ledger ${style}: ${ledgerLine(result, style)}`),
    `redeliveries absorbed (both styles, per service): ${JSON.stringify(result.ledgers.event.redeliveries)}`,
    `open ${result.open}, created twice ${result.duplicateOrders.length}, unexpected status ` +
      `${result.unexpected.length}, dead-lettered ${JSON.stringify(result.deadLetters)}, idle before the ledger: ${result.idle}`,
    found.length === 0 ? 'result: clean' : `result: NOT CLEAN: ${found.join('; ')}`,
    ...unfinishedLines(result),
    ...(result.logsFolder ? [`service logs: ${result.logsFolder}`] : []),
    ...(result.orderErrors.length > 0
      ? ['order error log lines (first):', ...result.orderErrors.map((line) => `  ${line}`)]
      : []),
  ].join('\n');
}

/** The report of a run in Markdown: what was done, the timeline, the ledger. */
export function chaosMarkdown(result: ChaosResult): string {
  const found = problems(result);
  const counts = faultCounts(result.timeline);
  return [
    `# Chaos run ${result.startedAt}`,
    '',
    `Seed **${result.seed}** (\`make chaos CHAOS_SEED=${result.seed}\` replays the schedule and ` +
      `the orders; the services' timing is their own). ${result.options.orders} orders at ` +
      `${result.options.rate}/s, half per style, about one in ten with a declined card. ` +
      `Duration ${seconds(result.durationMs.total)} (load ${seconds(result.durationMs.load)}, ` +
      `settle ${seconds(result.durationMs.settle)}).`,
    '',
    `**Result: ${found.length === 0 ? 'clean' : `not clean: ${found.join('; ')}`}.**`,
    '',
    '## Ledger',
    '',
    '| style | orders | completed | cancelled | lost | doubled | uncompensated |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...STYLES.map((style) => {
      const l = result.ledgers[style];
      return `| ${style} | ${l.orders} | ${l.completed} | ${l.cancelled} | ${l.lost.length} | ${l.doubled.length} | ${l.uncompensated.length} |`;
    }),
    '',
    `Redeliveries the inboxes absorbed (per service, both styles): \`${JSON.stringify(result.ledgers.event.redeliveries)}\`.`,
    '',
    `Orders accepted ${result.load.accepted} of ${result.options.orders}; ${result.load.retriedOrders} needed ` +
      `more than one POST (at most ${result.load.maxAttempts}); answers retried: ` +
      `\`${JSON.stringify(result.load.retriedAnswers)}\` (first of each: \`${JSON.stringify(result.load.firstAnswers)}\`). Orders created twice: ${result.duplicateOrders.length}. ` +
      `Not terminal: ${result.open}. Unexpected final status: ${result.unexpected.length}. ` +
      `Dead-lettered: \`${JSON.stringify(result.deadLetters)}\`. Queues and outboxes idle before the ledger: ${result.idle}.`,
    '',
    ...(result.unfinished.length > 0
      ? [
          '## Unfinished orders',
          '',
          ...unfinishedLines(result).map((line) => `- ${line.trim()}`),
          '',
        ]
      : []),
    ...(result.logsFolder ? [`Service logs: \`${result.logsFolder}\`.`, ''] : []),
    ...(result.orderErrors.length > 0
      ? [
          '## Order error log lines (first)',
          '',
          ...result.orderErrors.map((line) => `    ${line}`),
          '',
        ]
      : []),
    '## Faults',
    '',
    '| fault | count | targets |',
    '| --- | --- | --- |',
    ...FAULT_KINDS.map(
      (kind) =>
        `| ${kind} | ${countOf(result, kind)} | ${Object.entries(counts[kind] ?? {})
          .map(([service, n]) => `${service} ${n}`)
          .join(', ')} |`,
    ),
    '',
    '## Timeline',
    '',
    'Times in seconds since the load began. *held*: killed until restarted, or cut until ' +
      'restored. *recovery*: from the restart, the restore or the close until every target ' +
      'was ready again (and, for closed connections, connected anew). *accepted*: orders ' +
      'answered 202 before and after.',
    '',
    '| # | at | fault | targets | held | recovery | accepted | detail |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...result.timeline.map(
      (f) =>
        `| ${f.n} | ${(f.atMs / 1000).toFixed(1)} | ${f.kind} | ${f.targets.join(', ')} | ` +
        `${(f.heldMs / 1000).toFixed(1)} | ${(f.recoveryMs / 1000).toFixed(1)} | ` +
        `${f.acceptedBefore} -> ${f.acceptedAfter} | ${f.error ? `**error**: ${f.error}` : f.detail} |`,
    ),
    '',
  ].join('\n');
}

/** Writes `<name>.json` and `<name>.md` into `folder`; returns their paths. */
export async function writeChaosReport(folder: string, result: ChaosResult): Promise<string[]> {
  await mkdir(folder, { recursive: true });
  const base = path.join(folder, chaosReportName(result));
  await writeFile(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(`${base}.md`, chaosMarkdown(result));
  return [`${base}.json`, `${base}.md`];
}

function ledgerLine(result: ChaosResult, style: (typeof STYLES)[number]): string {
  const l = result.ledgers[style];
  return (
    `orders ${l.orders}, completed ${l.completed}, cancelled ${l.cancelled}, lost ${l.lost.length}, ` +
    `doubled ${l.doubled.length}, uncompensated ${l.uncompensated.length}`
  );
}

function unfinishedLines(result: ChaosResult): string[] {
  return result.unfinished.map(
    (o) =>
      `  unfinished ${o.orderId} (${o.style}): status ${o.status}, missing in ${o.missing.join(', ') || '-'}; ` +
      `outbox: ${o.outbox.join('; ') || 'none'}`,
  );
}

function countOf(result: ChaosResult, kind: string): number {
  return result.timeline.filter((fault) => fault.kind === kind).length;
}
