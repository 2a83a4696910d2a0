import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { cpuPercent } from './rates';

/** A group of processes whose CPU is added up under one label (`postgres`, `order`, ...). */
export interface ProcessGroup {
  label: string;
  pids: number[];
}

/** CPU used during a sampled interval, as percentages of one core. */
export interface CpuUse {
  /** Per group, in the order given. */
  processes: { label: string; percent: number }[];
  /** Every process on the machine together (at most 100 times the number of cores). */
  machine: number;
  /** The machine less the groups: other people's work, and the kernel's. */
  others: number;
  seconds: number;
}

/** utime + stime of a `/proc/<pid>/stat` line, in clock ticks. */
export function busyTicksOfProcess(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces: count after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Busy clock ticks of all cores together, from the `cpu` line of `/proc/stat`. */
export function busyTicksOfMachine(stat: string): number {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('no cpu line in /proc/stat');
  const [user, nice, system, , , irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return [user, nice, system, irq, softirq, steal].reduce<number>((sum, v) => sum + (v ?? 0), 0);
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      ticksPerSecond = 100;
    }
    if (!Number.isFinite(ticksPerSecond) || ticksPerSecond <= 0) ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

/** A process's busy CPU time so far in ms; 0 once it is gone (or where there is no /proc). */
function processBusyMs(pid: number): number {
  if (pid === process.pid) {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  }
  try {
    return (busyTicksOfProcess(readFileSync(`/proc/${pid}/stat`, 'utf8')) * 1000) / clockTicks();
  } catch {
    return 0;
  }
}

function machineBusyMs(): number {
  try {
    return (busyTicksOfMachine(readFileSync('/proc/stat', 'utf8')) * 1000) / clockTicks();
  } catch {
    return 0;
  }
}

/**
 * Reads the groups' CPU time now; `finish()` later says how much each used in between.
 * `finish` may name the groups' processes again: one that started in between (a new
 * database connection, say) counts with all of its CPU time.
 */
export function startCpuSample(groups: ProcessGroup[]): {
  finish: (latest?: ProcessGroup[]) => CpuUse;
} {
  const started = performance.now();
  const before = new Map<number, number>();
  for (const pid of groups.flatMap((group) => group.pids)) before.set(pid, processBusyMs(pid));
  const machineBefore = machineBusyMs();
  return {
    finish(latest = []) {
      const wall = performance.now() - started;
      const processes = groups.map((group) => {
        const pids = new Set([
          ...group.pids,
          ...(latest.find((other) => other.label === group.label)?.pids ?? []),
        ]);
        let percent = 0;
        for (const pid of pids)
          percent += cpuPercent(before.get(pid) ?? 0, processBusyMs(pid), wall);
        return { label: group.label, percent };
      });
      const machine = cpuPercent(machineBefore, machineBusyMs(), wall);
      const ours = processes.reduce((sum, p) => sum + p.percent, 0);
      return { processes, machine, others: Math.max(0, machine - ours), seconds: wall / 1000 };
    },
  };
}

/** The pid listening on a TCP port (the broker's, say), from `ss`; undefined if unknown. */
export function listeningPid(port: number): number | undefined {
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const match = /pid=(\d+)/.exec(out);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}
