// What a demo run leaves behind if it is killed (SIGKILL, a crash, a closed terminal): child servers
// still running, probe namespaces and their host links, temporary directories. Every temporary
// directory of a run lives under its work directory (TMPDIR points there), so "ours" is decidable:
// a process whose command line names the work directory; probe namespaces carry their owner's pid,
// and the lab removes those whose owner is gone.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanStaleProbeTargets } from '@ispmon/lab';

export interface RunRecord {
  pid: number;
  startedAt: string;
  /** Network namespaces of the probe targets (ispmon-p<pid>-<index>). */
  namespaces: string[];
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
    if (record.pid !== process.pid && !alive(record.pid)) {
      // The lab's own rule: namespaces and host links whose owner process is gone.
      cleanStaleProbeTargets();
      for (const ns of record.namespaces) done.push(`removed ${ns} (if it was left)`);
    }
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
