// TCP-connect probes: one connect() per interval on fixed due times, timed until the handshake completes.
import { connect } from 'node:net';
import type { ProbeSpec } from './measure.js';
import { ProbeStats } from './stats.js';

/** How far behind its due times a probe may fall and still catch up: 5 intervals, at least 1 s. */
export function catchUpMs(intervalMs: number): number {
  return Math.max(1_000, 5 * intervalMs);
}

export class TcpProbe {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** When the first probe went out; probe k is due at start + k × interval (no drift). */
  private epoch = 0;
  private count = 0;

  constructor(
    readonly spec: ProbeSpec,
    readonly stats: ProbeStats = new ProbeStats(),
  ) {}

  start(): void {
    this.epoch = performance.now();
    this.loop();
  }

  private loop(): void {
    if (this.stopped) return;
    const started = performance.now();
    this.count += 1;
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
    let due = this.epoch + this.count * this.spec.intervalMs;
    const now = performance.now();
    if (due < now - catchUpMs(this.spec.intervalMs)) {
      // Stalled for long (a suspended process): start afresh rather than burst. A short stall (a busy
      // event loop, a GC pause) is caught up, so the rate holds on a loaded machine.
      this.epoch = now - this.count * this.spec.intervalMs;
      due = now;
    }
    this.timer = setTimeout(() => this.loop(), Math.max(0, due - now));
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
