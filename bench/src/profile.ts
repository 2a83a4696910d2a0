import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The parts of a V8 `.cpuprofile` (what `node --cpu-prof` writes) that are read here. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  samples: number[];
  /** Microseconds before each sample. */
  timeDeltas: number[];
}

/** A function's share of the sampled time spent in its own code (not in what it called). */
export interface ProfileFrame {
  functionName: string;
  /** Relative to the repository, from a package's name inside node_modules, or node's own. */
  location: string;
  selfMs: number;
  /** Of the busy time: every sample but `(idle)`. */
  share: number;
}

export interface ProfileSummary {
  /** Sampled time while the process was not idle. */
  busyMs: number;
  idleMs: number;
  frames: ProfileFrame[];
}

/**
 * Where a frame's code is: `shared/store/src/outbox.ts:12`, `pg-protocol/dist/parser.js:40`,
 * `node:net:10`, or `(native or V8)` for code without a script (`writev`, `(program)`).
 */
export function locationOf(url: string, lineNumber: number, repoRoot: string): string {
  if (url === '') return '(native or V8)';
  const line = lineNumber >= 0 ? `:${lineNumber + 1}` : '';
  if (!url.startsWith('file://') && !url.startsWith('/')) return `${url}${line}`;
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  const inModules = file.lastIndexOf('/node_modules/');
  if (inModules >= 0) return `${file.slice(inModules + '/node_modules/'.length)}${line}`;
  const relative = path.relative(repoRoot, file);
  return `${relative.startsWith('..') ? file : relative}${line}`;
}

/**
 * The `count` functions with the most self time: each sample's time delta goes to the node
 * it hit, and nodes of the same function (name and script) are added up, wherever called from.
 */
export function topFrames(profile: CpuProfile, repoRoot: string, count = 10): ProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byFunction = new Map<string, { functionName: string; location: string; us: number }>();
  let idleUs = 0;
  let busyUs = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const frame = nodes.get(id);
    if (!frame) return;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      return;
    }
    busyUs += us;
    const key = `${frame.functionName}\u0000${frame.url}`;
    const entry = byFunction.get(key) ?? {
      functionName: frame.functionName || '(anonymous)',
      location: locationOf(frame.url, frame.lineNumber, repoRoot),
      us: 0,
    };
    entry.us += us;
    byFunction.set(key, entry);
  });
  const frames = [...byFunction.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, count)
    .map((entry) => ({
      functionName: entry.functionName,
      location: entry.location,
      selfMs: entry.us / 1000,
      share: busyUs > 0 ? entry.us / busyUs : 0,
    }));
  return { busyMs: busyUs / 1000, idleMs: idleUs / 1000, frames };
}
