// Continuous latency/loss measurement of client links, independent of scrapes: one probe per interval
// per target, kept in counters and a histogram that /probe exposes. ICMP uses iputils `ping` (one
// long-lived process per target; needs CAP_NET_RAW or net.ipv4.ping_group_range), TCP uses connect().
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import type { MetricFamily } from '../exposition.js';

export const RTT_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1,
] as const;

export interface ProbeSpec {
  name: string;
  host: string;
  protocol: 'icmp' | 'tcp';
  port?: number;
  intervalMs: number;
  timeoutMs: number;
}

/** Counters of one target: what /probe exposes. Pure bookkeeping, tested on its own. */
export class ProbeStats {
  sent = 0;
  received = 0;
  rttSum = 0;
  readonly buckets = RTT_BUCKETS.map(() => 0);
  lastSuccess = false;

  reply(rttSeconds: number): void {
    this.sent += 1;
    this.received += 1;
    this.rttSum += rttSeconds;
    this.lastSuccess = true;
    for (const [i, le] of RTT_BUCKETS.entries())
      if (rttSeconds <= le) this.buckets[i] = (this.buckets[i] ?? 0) + 1;
  }

  lost(): void {
    this.sent += 1;
    this.lastSuccess = false;
  }

  families(): MetricFamily[] {
    return [
      {
        name: 'probe_rtt_seconds',
        help: 'Round-trip time of probe replies.',
        type: 'histogram',
        samples: [
          ...RTT_BUCKETS.map((le, i) => ({
            suffix: '_bucket',
            labels: { le: String(le) },
            value: this.buckets[i] ?? 0,
          })),
          { suffix: '_bucket', labels: { le: '+Inf' }, value: this.received },
          { suffix: '_sum', value: this.rttSum },
          { suffix: '_count', value: this.received },
        ],
      },
      {
        name: 'probe_packets_sent_total',
        help: 'Probes sent to the target.',
        type: 'counter',
        samples: [{ value: this.sent }],
      },
      {
        name: 'probe_packets_received_total',
        help: 'Probe replies received from the target.',
        type: 'counter',
        samples: [{ value: this.received }],
      },
      {
        name: 'probe_success',
        help: 'Whether the last probe got a reply, 1 or 0.',
        type: 'gauge',
        samples: [{ value: this.lastSuccess ? 1 : 0 }],
      },
    ];
  }
}

/** Reads one line of `ping -n -D -O` output into a probe outcome. */
export function parsePingLine(line: string): { seq: number; rttMs?: number } | undefined {
  const reply = /icmp_seq=(\d+) ttl=\d+ time=([\d.]+) ms/.exec(line);
  if (reply) return { seq: Number(reply[1]), rttMs: Number(reply[2]) };
  const lost = /no answer yet for icmp_seq=(\d+)|icmp_seq=(\d+) Destination (?:Host|Net) Unreachable/.exec(
    line,
  );
  if (lost) return { seq: Number(lost[1] ?? lost[2]) };
  return undefined;
}

export class ProbeRunner {
  readonly stats = new ProbeStats();
  private child: ChildProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly lostSeqs = new Set<number>();
  private readonly seenSeqs = new Set<number>();

  constructor(readonly spec: ProbeSpec) {}

  start(): void {
    if (this.spec.protocol === 'tcp') this.tcpLoop();
    else this.icmpLoop();
  }

  private icmpLoop(): void {
    if (this.stopped) return;
    const interval = Math.max(0.2, this.spec.intervalMs / 1000);
    const wait = Math.max(1, Math.ceil(this.spec.timeoutMs / 1000));
    const child = spawn(
      'ping',
      ['-n', '-D', '-O', '-i', String(interval), '-W', String(wait), this.spec.host],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const r = parsePingLine(line);
      if (!r) return;
      if (r.rttMs !== undefined) {
        if (this.lostSeqs.delete(r.seq)) return; // a late reply to a probe already counted as lost
        if (this.seenSeqs.has(r.seq)) return;
        this.remember(r.seq);
        this.stats.reply(r.rttMs / 1000);
      } else if (!this.lostSeqs.has(r.seq) && !this.seenSeqs.has(r.seq)) {
        this.lostSeqs.add(r.seq);
        this.remember(r.seq);
        this.stats.lost();
      }
    });
    child.stderr?.resume();
    child.once('exit', () => {
      // ping exits when the route disappears (link down): count the gap as lost probes and retry.
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.stats.lost();
        this.icmpLoop();
      }, this.spec.intervalMs);
    });
  }

  private remember(seq: number): void {
    this.seenSeqs.add(seq);
    if (this.seenSeqs.size > 1000) this.seenSeqs.delete(this.seenSeqs.values().next().value as number);
    if (this.lostSeqs.size > 1000) this.lostSeqs.delete(this.lostSeqs.values().next().value as number);
  }

  private tcpLoop(): void {
    if (this.stopped) return;
    const started = performance.now();
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
    this.timer = setTimeout(() => this.tcpLoop(), this.spec.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.child?.kill('SIGTERM');
  }
}

/** Keeps one runner per configured probe target; targets added or removed at run time follow. */
export class ProbeScheduler {
  private readonly runners = new Map<string, ProbeRunner>();

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
      const runner = new ProbeRunner(spec);
      this.runners.set(spec.name, runner);
      runner.start();
    }
  }

  families(name: string): MetricFamily[] | undefined {
    return this.runners.get(name)?.stats.families();
  }

  stop(): void {
    for (const r of this.runners.values()) r.stop();
    this.runners.clear();
  }
}
