// CPU time of local processes from Linux's /proc, for benchmark scripts that print CPU per unit of
// work beside wall time (PostgreSQL's postmaster and backends, spawned service replicas).
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export interface ProcessCpu {
  /** utime + stime of the process itself, seconds. */
  own: number;
  /** cutime + cstime: its children that ended and were waited for, seconds. */
  children: number;
  ppid: number;
}

/** CPU seconds of one process; undefined when it has ended (or /proc is not there). */
export function processCpu(pid: number): ProcessCpu | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: split after its closing one.
  const f = text.slice(text.lastIndexOf(') ') + 2).split(' ');
  return {
    own: (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND,
    children: (Number(f[13]) + Number(f[14])) / TICKS_PER_SECOND,
    ppid: Number(f[1]),
  };
}

/** Own CPU seconds of each of `pids` that still runs (e.g. the backends pg_stat_activity lists). */
export function cpuSecondsByPid(pids: Iterable<number>): Map<number, number> {
  const seconds = new Map<number, number>();
  for (const pid of pids) {
    const cpu = processCpu(pid); // undefined: the process ended in between
    if (cpu) seconds.set(pid, cpu.own);
  }
  return seconds;
}

/** CPU seconds of a process and its direct children, living and ended (PostgreSQL: postmaster + backends). */
export function processTreeCpuSeconds(root: number): number {
  const top = processCpu(root);
  let total = top ? top.own + top.children : 0;
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === root) continue;
    const s = processCpu(pid);
    if (s?.ppid === root) total += s.own + s.children;
  }
  return total;
}

/** The 1, 5 and 15 minute load averages, one decimal each ("12.3 10.1 8.0"). */
export function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
}
