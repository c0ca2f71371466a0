// ICMP probes of many targets from one long-lived `fping -l` process (Debian package `fping`, which has
// CAP_NET_RAW as a file capability): fping keeps each target's schedule and prints one line per probe (a
// reply or "timed out"), which FpingAccounting counts.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { FpingAccounting, parseFpingLine, parseUnresolved } from './fping-output.js';
import type { ProbeStats } from './stats.js';

/** The longest wait between tries to start a probe process that cannot be started. */
const MAX_START_BACKOFF_MS = 60_000;

/** Pure: how long to wait before the n-th (1-based) retry of a failed start. */
export function startBackoffMs(intervalMs: number, failures: number): number {
  return Math.min(MAX_START_BACKOFF_MS, Math.max(intervalMs, 200) * 2 ** Math.max(0, failures - 1));
}

/**
 * Probes one fping process sends per second at most. fping numbers probes in a 65,535-entry map that
 * keeps each entry 10 s and exits when it runs out (6,553 probes/s); 4,000/s leaves room to catch up
 * after a stall of several seconds.
 */
export const MAX_PROBES_PER_SECOND_PER_PROCESS = 4_000;

/** Pure: how many hosts one fping process probes at this interval. */
export function hostsPerProcess(intervalMs: number): number {
  return Math.max(1, Math.floor((MAX_PROBES_PER_SECOND_PER_PROCESS * intervalMs) / 1000));
}

/**
 * Pure: the fping command line (hosts go to stdin, one per line). `-i 0`: fping sends every probe that is
 * due at once instead of sleeping between sends; with a spacing (fping's default is 10 ms) every send
 * costs a sleep, and on this loaded machine (load average 25) 2,500 targets at 1 s got 20 % of their
 * probes out with `-i 0.2` against 92 % with `-i 0`.
 */
export function fpingArgs(intervalMs: number, timeoutMs: number): string[] {
  return [
    '-l',
    '-p',
    String(Math.round(intervalMs)),
    '-t',
    String(Math.round(timeoutMs)),
    '-i',
    '0',
    '-f',
    '-',
  ];
}

export interface FpingEvents {
  /** The process could not be started (ENOENT, EAGAIN, EMFILE); it is retried after retryInMs. */
  startFailed(err: NodeJS.ErrnoException, retryInMs: number): void;
  /** fping ended by itself (a crash, or out of sequence numbers); it is restarted after retryInMs. */
  exited(code: number | null, signal: string | null, stderr: string, retryInMs: number): void;
}

export class FpingProcess {
  private child: ChildProcess | undefined;
  private readers: Interface[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Counts overdue probes of silent hosts while fping runs. */
  private silence: NodeJS.Timeout | undefined;
  private resolveRetry: NodeJS.Timeout | undefined;
  private stopped = false;
  private failures = 0;
  private resolveFailures = 0;
  private readonly accounting: FpingAccounting;

  constructor(
    readonly intervalMs: number,
    readonly timeoutMs: number,
    /** Host (as configured) → the stats of every target that probes it. */
    private readonly statsByHost: ReadonlyMap<string, readonly ProbeStats[]>,
    private readonly events: FpingEvents,
  ) {
    this.accounting = new FpingAccounting(statsByHost, intervalMs, timeoutMs);
  }

  get hosts(): number {
    return this.statsByHost.size;
  }

  start(): void {
    if (this.stopped) return;
    this.accounting.restart(Date.now());
    let child: ChildProcess;
    try {
      // PATH is looked up at every start: an fping installed (or restored) later is found on the retry.
      child = spawn('fping', fpingArgs(this.intervalMs, this.timeoutMs), {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: process.env,
      });
    } catch (err) {
      this.startFailed(err as NodeJS.ErrnoException);
      return;
    }
    let failed = false;
    // ENOENT, EAGAIN, EMFILE arrive as an event; unheard, it would end the exporter. `on`, not `once`:
    // a second error (a failed kill) must not go unheard either.
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (failed) return;
      failed = true;
      if (this.child === child) this.kill();
      child.kill('SIGKILL');
      this.startFailed(err);
    });
    if (!child.stdout || !child.stderr || !child.stdin) return; // EMFILE: the error event follows
    this.child = child;
    child.stdin.on('error', () => {}); // EPIPE when fping is gone before reading its list: the exit says why
    child.stdin.end([...this.statsByHost.keys()].join('\n') + '\n');
    child.once('spawn', () => {
      this.silence = setInterval(() => this.accounting.silent(Date.now()), this.intervalMs);
      this.silence.unref();
    });
    const out = createInterface({ input: child.stdout });
    const err = createInterface({ input: child.stderr });
    this.readers = [out, err];
    out.on('line', (line) => {
      const parsed = parseFpingLine(line);
      if (!parsed) return;
      this.failures = 0; // it works: the next failure starts the backoff afresh
      this.accounting.line(parsed, Date.now());
    });
    let stderr = '';
    err.on('line', (line) => {
      const host = parseUnresolved(line);
      if (host && this.statsByHost.has(host)) this.hostUnresolved();
      else if (stderr.length < 2_000) stderr += `${line}\n`;
    });
    child.once('exit', (code, signal) => {
      if (this.child === child) this.kill();
      if (failed || this.stopped) return;
      this.failures += 1;
      // fping ending by itself is the exporter's failure to measure, as a failed start is
      for (const stats of this.statsByHost.values()) for (const s of stats) s.startFailed();
      const retryInMs = startBackoffMs(this.intervalMs, this.failures);
      this.events.exited(code, signal, stderr.trim(), retryInMs);
      this.retry(retryInMs);
    });
  }

  /**
   * fping skips a name it cannot resolve and probes the rest; the target says nothing, so it counts a lost
   * probe every interval (accounting.silent) like a link that does not answer. The process is restarted
   * after a backoff to try the name again.
   */
  private hostUnresolved(): void {
    if (this.resolveRetry) return;
    // never reset: a name that keeps failing is tried less and less often, up to once a minute
    this.resolveFailures += 1;
    this.resolveRetry = setTimeout(
      () => {
        this.resolveRetry = undefined;
        this.kill();
        this.start();
      },
      startBackoffMs(this.intervalMs, this.resolveFailures),
    );
    this.resolveRetry.unref();
  }

  private startFailed(err: NodeJS.ErrnoException): void {
    if (this.stopped) return;
    this.failures += 1;
    for (const stats of this.statsByHost.values()) for (const s of stats) s.startFailed();
    const retryInMs = startBackoffMs(this.intervalMs, this.failures);
    this.events.startFailed(err, retryInMs);
    this.retry(retryInMs);
  }

  private retry(inMs: number): void {
    this.timer = setTimeout(() => this.start(), inMs);
    this.timer.unref();
  }

  /** The pid of the running fping, if any. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.kill();
  }

  /** Ends the running fping; nothing it still prints is counted (the next one numbers from 0 again). */
  private kill(): void {
    if (this.silence) clearInterval(this.silence);
    this.silence = undefined;
    if (this.resolveRetry) clearTimeout(this.resolveRetry);
    this.resolveRetry = undefined;
    for (const r of this.readers) r.close();
    this.readers = [];
    const child = this.child;
    this.child = undefined;
    child?.removeAllListeners('exit');
    child?.kill('SIGTERM');
  }
}
