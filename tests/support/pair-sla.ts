// billing's SLA month across a shard pair's member restart (tests/scale/pairs.test.ts). A month report
// judges whole minutes, and a member must be down for minutes before its own data misses one; a test
// cannot wait that long. So this probe target runs its clock fast: each scrape is answered with the
// probe counters at a sample time that advances `speed` times faster than the wall clock (Prometheus
// keeps explicit timestamps: honor_timestamps), from the wall clock on: remote_write sends only samples
// newer than its member's start, and the head takes the live samples up to an hour behind these. At speed 15, 1 s scrapes are the shipped 15 s probe scrapes and an 8 s stop leaves 2 minutes
// without the member's samples. Prometheus, remote_write, VictoriaMetrics's dedup, the restart and billing's
// report pipeline are the real ones; only the prober is simulated.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { computeMonth, monthBounds, PrometheusSlaSource, type SlaLink, type SlaMonth } from '@ispmon/billing';
import type { EngineSetting } from '@ispmon/billing';

const MINUTE_MS = 60_000;

/** A client link as the accelerated prober measures it: steady loss and RTT, and one outage at most. */
export interface SimulatedLink {
  link: string;
  /** Probes sent per second of sample time. */
  probesPerSecond: number;
  /** Share of probes answered outside the outage. */
  answered: number;
  rttSeconds: number;
}

export interface AcceleratedProber {
  /** host:port of the target (`/metrics`). */
  address: string;
  /** The sample time (unix ms) the target gives a scrape at wall time `wallMs`. */
  sampleTime(wallMs?: number): number;
  /** [start, end) in sample time during which no probe of any link is answered. */
  scheduleOutage(start: number, end: number): void;
  stop(): Promise<void>;
}

/**
 * The four probe counters of each link as linear functions of sample time (no reply during the outage):
 * each minute's success fraction and RTT mean then do not depend on which instants a member scraped,
 * so the global layer (which keeps the later member's sample in each interval) and a single member must
 * give the very same figures where both have data.
 */
export async function startAcceleratedProber(
  links: SimulatedLink[],
  o: { speed: number; origin: number },
): Promise<AcceleratedProber> {
  const wall0 = Date.now();
  const sampleTime = (wallMs = Date.now()): number => Math.round(o.origin + (wallMs - wall0) * o.speed);
  let outage: [number, number] | undefined;
  // Whole milliseconds until the division, so a counter never reads a rounding error below its last value.
  const answeredSeconds = (t: number): number => {
    if (!outage || t <= outage[0]) return (t - o.origin) / 1000;
    return (Math.max(outage[0], t - (outage[1] - outage[0])) - o.origin) / 1000;
  };
  const exposition = (t: number): string =>
    links
      .flatMap((l) => {
        const sel = `{link="${l.link}"}`;
        const sent = l.probesPerSecond * ((t - o.origin) / 1000);
        const received = l.probesPerSecond * l.answered * answeredSeconds(t);
        return [
          `probe_packets_sent_total${sel} ${sent} ${t}`,
          `probe_packets_received_total${sel} ${received} ${t}`,
          `probe_rtt_seconds_sum${sel} ${received * l.rttSeconds} ${t}`,
          `probe_rtt_seconds_count${sel} ${received} ${t}`,
        ];
      })
      .join('\n') + '\n';
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(exposition(sampleTime()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    sampleTime,
    scheduleOutage(start, end) {
      if (!(start < end)) throw new RangeError(`outage must end after it starts: ${start} ≥ ${end}`);
      outage = [start, end];
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections(); // scrapers' keep-alive connections would hold close() open
      }),
  };
}

export const ceilMinute = (ms: number): number => Math.ceil(ms / MINUTE_MS) * MINUTE_MS;

/** 'YYYY-MM' of instant `at` in `timeZone`. */
function monthIn(at: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
  }).formatToParts(new Date(at));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}`;
}

/**
 * The link's zone and month for a report over [start, end): Jakarta's, or UTC's when a Jakarta month
 * ends inside the span (the two zones' month ends are 7 h apart; the span is minutes long).
 */
export function reportMonth(start: number, end: number): { timeZone: string; month: string } {
  for (const timeZone of ['Asia/Jakarta', 'UTC']) {
    const month = monthIn(start, timeZone);
    if (monthIn(end - 1, timeZone) === month) return { timeZone, month };
  }
  throw new RangeError(`span ${new Date(start).toISOString()}–${new Date(end).toISOString()} is too long`);
}

/** The link row computeMonth reads: no data counts as down (the stricter policy), commitments breached by 10 % loss. */
export function slaLink(code: string, timeZone: string): SlaLink {
  return {
    id: '1',
    code,
    name: code,
    customer_id: '1',
    customer_code: 'C-1',
    customer_name: 'PT Satu',
    router_id: null,
    bandwidth: null,
    service_address: null,
    availability_target_percent: '99.5',
    latency_target_ms: '20',
    loss_target_percent: '1',
    monthly_fee_idr: '7500000',
    credit_policy: {
      tiers: [
        { below_availability_percent: 99.5, credit_percent: 5 },
        { below_availability_percent: 95, credit_percent: 10 },
      ],
      cap_percent: 30,
    },
    contacts: [],
    time_zone: timeZone,
    no_data_policy: 'down',
  };
}

/**
 * The month report of `link` from the engine at `url`, as billing's report job computes it
 * (PrometheusSlaSource → computeMonth), counting only the minutes of [start, end): the rest of the
 * month is declared maintenance, so the test's few minutes are the whole measured month.
 */
export async function slaOverSpan(
  url: string,
  engine: EngineSetting,
  link: SlaLink,
  month: string,
  span: { start: number; end: number },
): Promise<SlaMonth> {
  const bounds = monthBounds(month, link.time_zone);
  const series = await new PrometheusSlaSource({ url, engine }).linkSeries(
    link.code,
    bounds.start,
    bounds.end,
  );
  const outside = [
    { start: bounds.start, end: new Date(span.start), reason: 'before the test' },
    { start: new Date(span.end), end: bounds.end, reason: 'after the test' },
  ];
  return computeMonth(link, month, series, outside);
}

/**
 * The differences between two months: every count, incident, day, breach and credit exactly; latency
 * and loss (means of floats the engines sum in other orders) to 1e-9 relative. Empty when equal.
 */
export function monthDifferences(got: SlaMonth, want: SlaMonth): string[] {
  const exact = (m: SlaMonth) =>
    JSON.stringify({
      ...m,
      latency: { minutes: m.latency.minutes },
      lossPercent: null,
      hourly: m.hourly.map((h) => h.start),
      hourlyUpLossPercent: [],
      credit: { percent: m.credit.percent, amountIdr: String(m.credit.amountIdr) },
      monthlyFeeIdr: String(m.monthlyFeeIdr),
    });
  const out: string[] = [];
  if (exact(got) !== exact(want)) out.push(`counts differ: ${exact(got)} vs ${exact(want)}`);
  const floats = (m: SlaMonth): Array<number | null> => [
    m.latency.meanMs,
    m.latency.p95Ms,
    m.lossPercent,
    ...m.hourly.flatMap((h) => [h.latencyMs, h.lossPercent]),
    ...m.hourlyUpLossPercent,
  ];
  const [g, w] = [floats(got), floats(want)];
  for (const [i, a] of g.entries()) {
    const b = w[i] ?? null;
    const close = a === b || (a !== null && b !== null && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)));
    if (!close) out.push(`float ${i}: ${a} vs ${b}`);
  }
  return out;
}
