// Continuous latency/loss measurement of client links, independent of scrapes: one probe per interval
// per target, kept in counters and a histogram that /probe exposes. ICMP targets with the same interval
// and timeout share fping processes (icmp.ts; one per 4,000 probes/s), TCP targets use connect() (tcp.ts).
import type { MetricFamily } from '../exposition.js';
import { FpingProcess, hostsPerProcess } from './icmp.js';
import { ProbeStats } from './stats.js';
import { TcpProbe } from './tcp.js';

export { RTT_BUCKETS, ProbeStats } from './stats.js';
export { parseFpingLine, FpingAccounting } from './fping-output.js';
export { startBackoffMs, hostsPerProcess, fpingArgs } from './icmp.js';
export { TcpProbe } from './tcp.js';

export interface ProbeSpec {
  name: string;
  host: string;
  protocol: 'icmp' | 'tcp';
  port?: number;
  intervalMs: number;
  timeoutMs: number;
}

export interface ProbeLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

/** At most one log line per error code per this many ms (1,000 targets without fping: one line a minute). */
const START_FAILURE_LOG_EVERY_MS = 60_000;

interface Measured {
  spec: ProbeSpec;
  stats: ProbeStats;
  /** Tells a re-created target (same name, new spec) from the one it replaced. */
  generation: number;
  tcp?: TcpProbe;
}

interface FpingChunk {
  signature: string;
  process: FpingProcess;
  targets: number;
}

type Startable = { tcp: TcpProbe; name: string } | { chunk: FpingChunk };

/**
 * Keeps the probes of the configured targets running; targets added or removed at run time follow.
 * Probes start one per event-loop turn after sync() returns, so loading the configuration and readiness
 * never wait for them. A target whose spec is unchanged keeps its counters across a sync, also when its
 * fping process is restarted because a neighbour in the same process was added or removed.
 */
export class ProbeScheduler {
  private readonly measured = new Map<string, Measured>();
  /** ICMP processes by `interval/timeout`, each with the targets it probes. */
  private readonly chunks = new Map<string, FpingChunk[]>();
  private readonly toStart: Startable[] = [];
  private starting: NodeJS.Immediate | undefined;
  private generation = 0;
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly log: ProbeLog = { warn: () => {} }) {}

  sync(specs: ProbeSpec[]): void {
    const wanted = new Map(specs.map((s) => [s.name, s]));
    for (const [name, m] of this.measured) {
      const spec = wanted.get(name);
      if (!spec || JSON.stringify(spec) !== JSON.stringify(m.spec)) {
        m.tcp?.stop();
        this.measured.delete(name);
      }
    }
    for (const spec of specs) {
      if (this.measured.has(spec.name)) continue;
      const m: Measured = { spec, stats: new ProbeStats(), generation: (this.generation += 1) };
      if (spec.protocol === 'tcp') {
        m.tcp = new TcpProbe(spec, m.stats);
        this.toStart.push({ tcp: m.tcp, name: spec.name });
      }
      this.measured.set(spec.name, m);
    }
    this.syncIcmp();
    this.startNext();
  }

  /** Re-forms the fping processes; one whose targets are unchanged keeps running. */
  private syncIcmp(): void {
    const groups = new Map<string, Measured[]>();
    for (const m of this.measured.values()) {
      if (m.spec.protocol !== 'icmp') continue;
      const key = `${m.spec.intervalMs}/${m.spec.timeoutMs}`;
      let list = groups.get(key);
      if (!list) groups.set(key, (list = []));
      list.push(m);
    }
    const next = new Map<string, FpingChunk[]>();
    const kept = new Set<FpingChunk>();
    for (const [key, list] of groups) {
      const previous = new Map((this.chunks.get(key) ?? []).map((c) => [c.signature, c]));
      const { intervalMs, timeoutMs } = list[0]!.spec;
      const byHost = new Map<string, Measured[]>();
      for (const m of list) {
        let same = byHost.get(m.spec.host);
        if (!same) byHost.set(m.spec.host, (same = []));
        same.push(m);
      }
      const hosts = [...byHost.keys()];
      const size = hostsPerProcess(intervalMs);
      const chunks: FpingChunk[] = [];
      for (let i = 0; i < hosts.length; i += size) {
        const part = hosts.slice(i, i + size);
        const signature = part
          .map((h) => `${h}\t${(byHost.get(h) ?? []).map((m) => `${m.spec.name}#${m.generation}`).join(',')}`)
          .join('\n');
        const old = previous.get(signature);
        if (old) {
          kept.add(old);
          chunks.push(old);
          continue;
        }
        const statsByHost = new Map(part.map((h) => [h, (byHost.get(h) ?? []).map((m) => m.stats)]));
        const first = byHost.get(part[0]!)![0]!.spec;
        const chunk: FpingChunk = {
          signature,
          targets: part.reduce((n, h) => n + (byHost.get(h)?.length ?? 0), 0),
          process: new FpingProcess(intervalMs, timeoutMs, statsByHost, {
            startFailed: (err, retryInMs) => this.startFailure(first, err, retryInMs),
            exited: (code, signal, stderr, retryInMs) =>
              this.startFailure(
                first,
                Object.assign(new Error(`fping exited (code ${code}, signal ${signal}): ${stderr}`), {
                  code: 'EXITED',
                }),
                retryInMs,
              ),
          }),
        };
        chunks.push(chunk);
        this.toStart.push({ chunk });
      }
      next.set(key, chunks);
    }
    for (const list of this.chunks.values()) for (const c of list) if (!kept.has(c)) c.process.stop();
    this.chunks.clear();
    for (const [k, v] of next) this.chunks.set(k, v);
  }

  private startNext(): void {
    if (this.starting || this.toStart.length === 0) return;
    this.starting = setImmediate(() => {
      this.starting = undefined;
      const item = this.toStart.shift();
      if (item && 'tcp' in item) {
        if (this.measured.get(item.name)?.tcp === item.tcp) item.tcp.start();
      } else if (item) item.chunk.process.start(); // a stopped process does not start
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
    const failing = [...this.measured.values()].filter(
      (m) => m.stats.startFailures > 0 && !m.stats.lastSuccess,
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

  /** How many targets have not been started yet. */
  get waitingToStart(): number {
    return this.toStart.reduce((n, item) => n + ('tcp' in item ? 1 : item.chunk.targets), 0);
  }

  /** How many fping processes are configured (running or being retried). */
  get icmpProcesses(): number {
    return [...this.chunks.values()].reduce((n, list) => n + list.length, 0);
  }

  stats(name: string): ProbeStats | undefined {
    return this.measured.get(name)?.stats;
  }

  families(name: string): MetricFamily[] | undefined {
    return this.measured.get(name)?.stats.families();
  }

  stop(): void {
    if (this.starting) clearImmediate(this.starting);
    this.starting = undefined;
    this.toStart.length = 0;
    for (const m of this.measured.values()) m.tcp?.stop();
    for (const list of this.chunks.values()) for (const c of list) c.process.stop();
    this.measured.clear();
    this.chunks.clear();
  }
}
