// What a demo run leaves behind if it is killed (SIGKILL, a crash, a closed terminal): child servers
// still running, probe namespaces and their host links, temporary directories. Every temporary
// directory of a run lives under its work directory (TMPDIR points there), so "ours" is decidable:
// a process whose command line names the work directory, the namespaces recorded in run.json.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RunRecord {
  pid: number;
  startedAt: string;
  /** Network namespace indices of the probe targets (ispmon-p<N>, host link ispmon-ph<N>). */
  probeIndices: number[];
}

const RECORD = 'run.json';

export function writeRunRecord(work: string, record: RunRecord): void {
  writeFileSync(join(work, RECORD), `${JSON.stringify(record, null, 2)}\n`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids (not ours) whose command line mentions `dir`. */
export function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) pids.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

export function removeNamespaces(indices: readonly number[]): string[] {
  const removed: string[] = [];
  for (const i of indices) {
    for (const args of [
      ['netns', 'del', `ispmon-p${i}`],
      ['link', 'del', `ispmon-ph${i}`],
    ]) {
      try {
        execFileSync('ip', args, { stdio: 'ignore' });
        removed.push(args[2] as string);
      } catch {
        // not there
      }
    }
  }
  return removed;
}

/**
 * Cleans what an earlier run with this work directory left: refuses while that run is alive, else
 * stops its leftover processes, removes its namespaces and the whole directory. Returns what it did.
 */
export async function cleanEarlierRun(work: string): Promise<string[]> {
  const done: string[] = [];
  const recordFile = join(work, RECORD);
  if (existsSync(recordFile)) {
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as RunRecord;
    if (
      record.pid !== process.pid &&
      alive(record.pid) &&
      readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').includes('demo')
    )
      throw new Error(
        `another demo (pid ${record.pid}) is running with ${work}; stop it first (Ctrl-C or kill ${record.pid})`,
      );
    for (const ns of removeNamespaces(record.probeIndices)) done.push(`removed ${ns}`);
  }
  if (existsSync(work)) {
    let pids = processesUsing(`${work}/`);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGTERM');
        done.push(`stopped leftover process ${pid}`);
      } catch {
        // gone
      }
    }
    for (let waited = 0; pids.length && waited < 5_000; waited += 100) {
      await sleep(100);
      pids = pids.filter(alive);
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(work, { recursive: true, force: true });
  }
  return done;
}
