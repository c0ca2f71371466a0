// Continuous latency/loss measurement of client links, independent of scrapes: one probe per interval
// per target, kept in counters and a histogram that /probe exposes. ICMP uses iputils `ping` (one
// long-lived process per target; needs CAP_NET_RAW or net.ipv4.ping_group_range), TCP uses connect().
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import type { MetricFamily } from '../exposition.js';
import { IcmpAccounting, parsePingLine } from './ping-output.js';
import { ProbeStats } from './stats.js';

export { RTT_BUCKETS, ProbeStats } from './stats.js';
export { parsePingLine, IcmpAccounting } from './ping-output.js';

export interface ProbeSpec {
  name: string;
  host: string;
  protocol: 'icmp' | 'tcp';
  port?: number;
  intervalMs: number;
  timeoutMs: number;
}

/** Where a runner reports that it could not start its probe (rate-limited by the scheduler). */
export type StartFailureReport = (spec: ProbeSpec, err: NodeJS.ErrnoException, retryInMs: number) => void;

/** The longest wait between tries to start a probe that cannot be started. */
const MAX_START_BACKOFF_MS = 60_000;

/** Pure: how long to wait before the n-th (1-based) retry of a failed start. */
export function startBackoffMs(intervalMs: number, failures: number): number {
  return Math.min(MAX_START_BACKOFF_MS, Math.max(intervalMs, 200) * 2 ** Math.max(0, failures - 1));
}

export class ProbeRunner {
  readonly stats = new ProbeStats();
  private child: ChildProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private consecutiveStartFailures = 0;
  private readonly icmp: IcmpAccounting;
  /** TCP: when the first probe went out; probe k is due at start + k × interval (no drift). */
  private tcpEpoch = 0;
  private tcpCount = 0;

  constructor(
    readonly spec: ProbeSpec,
    private readonly onStartFailure: StartFailureReport = () => {},
  ) {
    this.icmp = new IcmpAccounting(this.stats, spec.timeoutMs);
  }

  start(): void {
    if (this.spec.protocol === 'tcp') {
      this.tcpEpoch = performance.now();
      this.tcpLoop();
    } else this.icmpLoop();
  }

  private icmpLoop(): void {
    if (this.stopped) return;
    const interval = Math.max(0.2, this.spec.intervalMs / 1000);
    const wait = Math.max(1, Math.ceil(this.spec.timeoutMs / 1000));
    // `-l 2` lets ping catch up after a late wake-up: with the default preload of 1 its token bucket
    // drops the lateness of every send, and it ran 2–5 % under the configured rate.
    const args = ['-n', '-D', '-O', '-l', '2', '-i', String(interval), '-W', String(wait), this.spec.host];
    let child: ChildProcess;
    try {
      // PATH is looked up at every start: a ping installed (or restored) later is found on the retry.
      child = spawn('ping', args, { stdio: ['ignore', 'pipe', 'ignore'], env: process.env });
    } catch (err) {
      this.startFailed(err as NodeJS.ErrnoException);
      return;
    }
    let failed = false;
    // ENOENT (no ping on PATH), EAGAIN (process limit), EMFILE (file limit) arrive here, not as a
    // throw; unheard, the event would end the exporter.
    // `on`, not `once`: a second error event (a failed kill) must not go unheard either.
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (failed) return;
      failed = true;
      child.kill('SIGKILL');
      if (this.child === child) this.child = undefined;
      this.startFailed(err);
    });
    if (!child.stdout) return; // EMFILE: no pipes; the error event follows
    this.child = child;
    child.once('spawn', () => {
      this.consecutiveStartFailures = 0;
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const parsed = parsePingLine(line);
      if (parsed) this.icmp.line(parsed, Date.now());
    });
    child.once('exit', () => {
      if (failed || this.stopped) return;
      this.icmp.endAll();
      // ping exits when the route disappears (link down): count the gap as a lost probe and retry.
      this.timer = setTimeout(() => {
        this.stats.lost();
        this.icmpLoop();
      }, this.spec.intervalMs);
    });
  }

  private startFailed(err: NodeJS.ErrnoException): void {
    if (this.stopped) return;
    this.consecutiveStartFailures += 1;
    this.stats.startFailed();
    const retryInMs = startBackoffMs(this.spec.intervalMs, this.consecutiveStartFailures);
    this.onStartFailure(this.spec, err, retryInMs);
    this.timer = setTimeout(() => this.icmpLoop(), retryInMs);
    this.timer.unref();
  }

  private tcpLoop(): void {
    if (this.stopped) return;
    const started = performance.now();
    this.tcpCount += 1;
    const socket = connect({ host: this.spec.host, port: this.spec.port ?? 80 });
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      socket.destroy();
      if (ok) this.stats.reply((performance.now() - started) / 1000);
      else this.stats.lost();
    };
    socket.setTimeout(this.spec.timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
    // Due times are fixed from the start, so a late timer does not push every later probe back.
    let due = this.tcpEpoch + this.tcpCount * this.spec.intervalMs;
    const now = performance.now();
    if (due < now - this.spec.intervalMs) {
      // stalled for more than an interval (a suspended process): start afresh rather than burst
      this.tcpEpoch = now - this.tcpCount * this.spec.intervalMs;
      due = now;
    }
    this.timer = setTimeout(() => this.tcpLoop(), Math.max(0, due - now));
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.child?.kill('SIGTERM');
  }
}

export interface ProbeLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

/** At most one log line per error code per this many ms (1,000 targets without ping: one line a minute). */
const START_FAILURE_LOG_EVERY_MS = 60_000;

/**
 * Keeps one runner per configured probe target; targets added or removed at run time follow. Runners
 * start one per event-loop turn, after sync() returns, so loading the configuration and readiness never
 * wait for a thousand processes to be spawned.
 */
export class ProbeScheduler {
  private readonly runners = new Map<string, ProbeRunner>();
  private readonly toStart: ProbeRunner[] = [];
  private starting: NodeJS.Immediate | undefined;
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly log: ProbeLog = { warn: () => {} }) {}

  sync(specs: ProbeSpec[]): void {
    const wanted = new Map(specs.map((s) => [s.name, s]));
    for (const [name, runner] of this.runners) {
      const spec = wanted.get(name);
      if (!spec || JSON.stringify(spec) !== JSON.stringify(runner.spec)) {
        runner.stop();
        this.runners.delete(name);
      }
    }
    for (const spec of specs) {
      if (this.runners.has(spec.name)) continue;
      const runner = new ProbeRunner(spec, (s, err, retryInMs) => this.startFailure(s, err, retryInMs));
      this.runners.set(spec.name, runner);
      this.toStart.push(runner);
    }
    this.startNext();
  }

  private startNext(): void {
    if (this.starting || this.toStart.length === 0) return;
    this.starting = setImmediate(() => {
      this.starting = undefined;
      const runner = this.toStart.shift();
      if (runner && this.runners.get(runner.spec.name) === runner) runner.start();
      this.startNext();
    });
  }

  private startFailure(spec: ProbeSpec, err: NodeJS.ErrnoException, retryInMs: number): void {
    const code = err.code ?? 'unknown';
    const now = Date.now();
    const last = this.lastLogged.get(code);
    if (last && now - last.at < START_FAILURE_LOG_EVERY_MS) {
      last.suppressed += 1;
      return;
    }
    this.lastLogged.set(code, { at: now, suppressed: 0 });
    const failing = [...this.runners.values()].filter(
      (r) => r.stats.startFailures > 0 && !r.stats.lastSuccess,
    );
    this.log.warn(
      {
        event: 'probe_start_failed',
        target: spec.name,
        code,
        error: err.message,
        retry_in_ms: retryInMs,
        failing_targets: failing.length,
        ...(last ? { similar_failures_not_logged: last.suppressed } : {}),
      },
      `probe could not be started (${code}); the target shows as failing and is retried`,
    );
  }

  /** How many runners have not been started yet. */
  get waitingToStart(): number {
    return this.toStart.length;
  }

  families(name: string): MetricFamily[] | undefined {
    return this.runners.get(name)?.stats.families();
  }

  stop(): void {
    if (this.starting) clearImmediate(this.starting);
    this.starting = undefined;
    this.toStart.length = 0;
    for (const r of this.runners.values()) r.stop();
    this.runners.clear();
  }
}
