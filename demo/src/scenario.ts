import type { RunningSystem } from '@app/testing';
import type { ChartSpec } from './charts';
import type { DemoConfig } from './config';
import type { Progress } from './progress';
import type { Queues } from './queues';
import type { ScenarioId } from './scenario-ids';

/** One thing a scenario promises; the scenario passes only when every check holds. */
export interface Check {
  name: string;
  passed: boolean;
  /** What was seen, so a failed check says why. */
  detail?: string;
}

/** A measured number with its label, e.g. `peak depth` / `212 messages`. */
export interface Figure {
  label: string;
  value: string;
}

/** A chart a scenario wants in the report: its spec and the file name (without extension). */
export interface ChartRequest {
  file: string;
  title: string;
  spec: ChartSpec;
}

/** What a scenario reports back. */
export interface ScenarioOutcome {
  /** One line for the summary table, e.g. `peak 212 queued, 300/300 invoiced`. */
  headline: string;
  figures: Figure[];
  checks: Check[];
  charts?: ChartRequest[];
  /** Extra text for the report (the message trails, say), shown as preformatted blocks. */
  details?: { title: string; lines: string[] }[];
}

export interface ScenarioResult extends ScenarioOutcome {
  id: ScenarioId;
  title: string;
  shows: string;
  summary: string;
  durationMs: number;
  /** Set when the scenario could not finish; it then fails. */
  error?: string;
  /** Files written for the charts (PNG and SVG), relative to the report folder. */
  chartFiles: string[];
}

export interface ScenarioContext {
  system: RunningSystem;
  /** The demo's own broker client, for queue depths. */
  queues: Queues;
  config: DemoConfig;
  progress: Progress;
  /** Prints a line to the audience (above the live progress line). */
  say(line?: string): void;
}

export interface Scenario {
  id: ScenarioId;
  title: string;
  /** One or two sentences announcing what the room is about to see. */
  shows: string;
  /** A few words for the summary table. */
  summary: string;
  run(context: ScenarioContext): Promise<ScenarioOutcome>;
}

export const check = (name: string, passed: boolean, detail?: string): Check =>
  detail === undefined ? { name, passed } : { name, passed, detail };
