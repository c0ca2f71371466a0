// What /probe exposes for one client link: sent/received counters, an RTT histogram, whether the last
// probe was answered, and how often the probe could not be started at all. Pure bookkeeping.
import type { MetricFamily } from '../exposition.js';

export const RTT_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1,
] as const;

export class ProbeStats {
  sent = 0;
  received = 0;
  rttSum = 0;
  readonly buckets = RTT_BUCKETS.map(() => 0);
  lastSuccess = false;
  /** Times the probe (its `fping` process) could not be started: the exporter's fault, not the link's. */
  startFailures = 0;

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

  startFailed(): void {
    this.startFailures += 1;
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
      {
        name: 'probe_start_failures_total',
        help: 'Times the probe could not be started (e.g. fping missing, process or file limits); no packet was sent.',
        type: 'counter',
        samples: [{ value: this.startFailures }],
      },
    ];
  }
}
