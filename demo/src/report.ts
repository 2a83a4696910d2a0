import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ScenarioResult } from './scenario';
import { summaryMarkdown } from './verdict';

/** `reports/demo-2024-05-01T12-30-05`: sortable, and safe in every file system. */
export function reportFolderName(startedAt: Date): string {
  return `demo-${startedAt.toISOString().slice(0, 19).replace(/:/g, '-')}`;
}

export async function makeReportFolder(root: string, startedAt: Date): Promise<string> {
  const folder = path.join(root, reportFolderName(startedAt));
  await mkdir(folder, { recursive: true });
  return folder;
}

/** Writes `summary.md` (for people) and `results.json` (for scripts) into the folder. */
export async function writeReport(
  folder: string,
  results: ScenarioResult[],
  meta: { startedAt: Date; durationMs: number; environment: string[] },
): Promise<void> {
  await writeFile(path.join(folder, 'summary.md'), summaryMarkdown(results, meta));
  await writeFile(
    path.join(folder, 'results.json'),
    `${JSON.stringify({ ...meta, results: results.map(({ charts: _charts, ...rest }) => rest) }, null, 2)}\n`,
  );
}
