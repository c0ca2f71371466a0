// Pure: iputils `ping -n -D -O` output lines → probe outcomes, one per ICMP sequence number.
import type { ProbeStats } from './stats.js';

export type PingLine =
  { seq: number; rttMs: number } | { seq: number; unanswered: true } | { seq: number; unreachable: true };

/** Reads one line of `ping -n -D -O` output; undefined for lines that are not about one probe. */
export function parsePingLine(line: string): PingLine | undefined {
  const reply = /icmp_seq=(\d+) ttl=\d+ time=([\d.]+) ms/.exec(line);
  if (reply) return { seq: Number(reply[1]), rttMs: Number(reply[2]) };
  const waiting = /no answer yet for icmp_seq=(\d+)/.exec(line);
  if (waiting) return { seq: Number(waiting[1]), unanswered: true };
  const unreachable = /icmp_seq=(\d+) Destination (?:Host|Net) Unreachable/.exec(line);
  if (unreachable) return { seq: Number(unreachable[1]), unreachable: true };
  return undefined;
}

/** How many resolved sequence numbers are remembered (to ignore duplicates and late replies). */
const MEMORY = 1000;

/**
 * Turns ping's lines into counted probes, each sequence number once. ping says "no answer yet" when it
 * sends the next probe, which may be sooner than the timeout (it sends two at once at start, and catches
 * up after a late wake-up); such a probe is lost only if no reply comes within the timeout. A reply
 * slower than the timeout counts as lost. Time comes in as an argument.
 */
export class IcmpAccounting {
  /** Sequence numbers said unanswered, with the time after which they count as lost. */
  private readonly waiting = new Map<number, number>();
  private readonly resolved = new Set<number>();

  constructor(
    private readonly stats: ProbeStats,
    private readonly timeoutMs: number,
  ) {}

  line(parsed: PingLine, nowMs: number): void {
    this.expire(nowMs);
    const { seq } = parsed;
    if (this.resolved.has(seq)) return;
    if ('rttMs' in parsed) {
      this.resolve(seq);
      if (parsed.rttMs <= this.timeoutMs) this.stats.reply(parsed.rttMs / 1000);
      else this.stats.lost();
    } else if ('unreachable' in parsed) {
      this.resolve(seq);
      this.stats.lost();
    } else if (!this.waiting.has(seq)) {
      this.waiting.set(seq, nowMs + this.timeoutMs);
    }
  }

  /** Counts as lost every probe whose timeout has passed without a reply. */
  expire(nowMs: number): void {
    for (const [seq, deadline] of this.waiting) {
      if (deadline > nowMs) continue;
      this.resolve(seq);
      this.stats.lost();
    }
  }

  /** The ping process ended: nothing more will answer the probes still waiting. */
  endAll(): void {
    for (const seq of [...this.waiting.keys()]) {
      this.resolve(seq);
      this.stats.lost();
    }
    // a new process starts its sequence numbers again at 1
    this.resolved.clear();
  }

  private resolve(seq: number): void {
    this.waiting.delete(seq);
    this.resolved.add(seq);
    if (this.resolved.size > MEMORY) this.resolved.delete(this.resolved.values().next().value as number);
  }
}
