// Pure: fping 5 loop-mode output (`fping -l`, per-probe lines on stdout) → probe outcomes, one per target
// and sequence number. fping resolves every probe exactly once, as a reply within its `-t` timeout or as
// "timed out" when that passes (it drops slower replies itself); only duplicates need filtering here.
import type { ProbeStats } from './stats.js';

export type FpingLine =
  { host: string; seq: number; rttMs: number } | { host: string; seq: number; timedOut: true };

const LINE = /^(\S+)\s+: \[(\d+)\], (?:\d+ bytes, ([\d.]+) ms|(timed out))/;

/** Reads one line of `fping -l` output; undefined for lines that are not about one probe. */
export function parseFpingLine(line: string): FpingLine | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  const host = m[1] as string;
  const seq = Number(m[2]);
  if (m[4]) return { host, seq, timedOut: true };
  return { host, seq, rttMs: Number(m[3]) };
}

/** fping's stderr line for a name it could not resolve (`name: Name or service not known`). */
export function parseUnresolved(line: string): string | undefined {
  const m =
    /^(\S+): (?:Name or service not known|Temporary failure in name resolution|No address associated with hostname|.*can't forward-lookup)/.exec(
      line,
    );
  return m?.[1];
}

interface HostState {
  /** Every sequence number below this one is resolved. */
  low: number;
  /** Resolved sequence numbers at or above `low`. */
  done: Set<number>;
  /** The highest sequence number fping printed for this host (-1 before the first). */
  lastSeq: number;
}

/** Room, beyond the timeout and an interval, for a whole fping that went quiet (a stall, or no route at all). */
export const SILENCE_GRACE_MS = 1_000;

/**
 * Counts each (host, sequence number) once into every ProbeStats configured for that host (two targets
 * may probe the same address). fping prints nothing for a probe it could not send (no route: sendto
 * fails); such a probe counts as lost once fping has shown that its line cannot come any more: its host
 * printed a later one, or any host of the process did for a round that many intervals later (fping sends
 * the rounds in order and resolves timeouts before sending, so a late fping delays every line alike and
 * loses nothing here); when the whole process says nothing for longer than a timeout + interval + 1 s,
 * time decides. A line that comes after its probe was counted lost is not counted again. In loop mode
 * fping prints a duplicate reply again; it is dropped. Time comes in as an argument.
 */
export class FpingAccounting {
  private readonly hosts = new Map<string, HostState>();
  /** Replies and timeouts of one sequence number can come out of order by this many later ones. */
  private readonly window: number;
  /** The highest sequence number any host printed, and when the process last printed anything. */
  private maxSeq = -1;
  private lastLineAt = 0;

  constructor(
    private readonly statsByHost: ReadonlyMap<string, readonly ProbeStats[]>,
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
    startedAt = 0,
  ) {
    this.window = Math.ceil(timeoutMs / intervalMs) + 1;
    this.restart(startedAt);
  }

  line(parsed: FpingLine, nowMs: number): void {
    const state = this.hosts.get(parsed.host);
    if (!state) return;
    this.lastLineAt = nowMs;
    const { seq } = parsed;
    if (seq > this.maxSeq) this.maxSeq = seq;
    if (seq < state.low || state.done.has(seq)) return;
    this.count(parsed.host, 'rttMs' in parsed ? parsed.rttMs : undefined);
    state.done.add(seq);
    if (seq >= state.lastSeq) state.lastSeq = seq;
    this.loseBelow(parsed.host, state, seq - this.window);
  }

  /** Counts as lost every probe whose line cannot come any more (called every interval). */
  silent(nowMs: number): void {
    const quiet = nowMs - this.lastLineAt - this.timeoutMs - this.intervalMs - SILENCE_GRACE_MS;
    const stalled = quiet > 0 ? Math.floor(quiet / this.intervalMs) + 1 : 0;
    for (const [host, state] of this.hosts) {
      const end = stalled ? this.maxSeq + stalled : this.maxSeq - this.window;
      this.loseBelow(host, state, end);
    }
  }

  /** A new fping process numbers its probes from 0 again. */
  restart(startedAt: number): void {
    this.hosts.clear();
    this.maxSeq = -1;
    this.lastLineAt = startedAt;
    for (const host of this.statsByHost.keys())
      this.hosts.set(host, { low: 0, done: new Set(), lastSeq: -1 });
  }

  /** Every unresolved sequence number below `end` is lost. */
  private loseBelow(host: string, state: HostState, end: number): void {
    for (let k = state.low; k < end; k++) {
      if (state.done.has(k)) continue;
      this.count(host, undefined);
      state.done.add(k);
    }
    while (state.done.has(state.low)) state.done.delete(state.low++);
  }

  private count(host: string, rttMs: number | undefined): void {
    for (const s of this.statsByHost.get(host) ?? []) {
      if (rttMs !== undefined) s.reply(rttMs / 1000);
      else s.lost();
    }
  }
}
