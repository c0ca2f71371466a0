// Minute series of one client link from Prometheus: the probe counters' increase over each exact
// minute, read with range queries at minute-aligned steps (60 s) and split into chunks below
// Prometheus's 11,000-points-per-series limit, without gaps or duplicates at chunk edges.
//
// The report does not read the link recording rules' output: a rule evaluates at an offset Prometheus
// picks, so its "last minute" straddles two clock minutes and an outage's edge minutes came out up or
// down depending on that offset. Evaluating the same expression at each minute's end does not depend
// on when rules run. The minute rule (shared with link:probe_availability:ratio_1m and LinkDown):
// a minute is down when more than half of its probes failed (success fraction < 0.5).
import { PrometheusClient } from '../prometheus/client.js';
import type { EngineSetting } from '../prometheus/engine.js';
import type { MinuteSeries } from './types.js';

/** The probe counters the exporter exposes per client link (label `link`). */
export const PROBE_COUNTERS = {
  sent: 'probe_packets_sent_total',
  received: 'probe_packets_received_total',
  rttSum: 'probe_rtt_seconds_sum',
  rttCount: 'probe_rtt_seconds_count',
} as const;

/** A minute whose success fraction is below this is down: more than half of its probes failed. */
export const DOWN_BELOW_SUCCESS_FRACTION = 0.5;

export interface LinkSeries {
  /** Fraction of the minute's probes that got a reply (0..1). */
  availability: MinuteSeries;
  latencyMeanSeconds: MinuteSeries;
  /** 1 − availability. */
  loss: MinuteSeries;
}

/** Prometheus refuses range queries spanning more than 11,000 steps. */
export const PROMETHEUS_MAX_POINTS = 11_000;
const STEP_SECONDS = 60;

/** A PromQL string literal: JSON's escapes (\" \\ \n \t \uXXXX …) are a subset of PromQL's (Go's). */
export function promqlString(s: string): string {
  return JSON.stringify(s);
}

/** Prometheus's `increase()` as the engine spells it: `increase_prometheus` on VictoriaMetrics. */
export type IncreaseFunction = 'increase' | 'increase_prometheus';

/**
 * The PromQL of the ratio of two probe counters' increases over the minute ending at each step T,
 * summed by link (a link that moved to another router or customer mid-month, which changes the series'
 * labels, stays one series). `increase` extrapolates both counters of one scrape alike, so the ratio
 * is that of the probes seen between the minute's first and last scrape (45 of 60 at 15 s scrapes);
 * a minute without two scrapes, or without probes sent, has no value (no data).
 */
export function linkRatioQuery(
  numerator: string,
  denominator: string,
  link: string,
  increase: IncreaseFunction = 'increase',
): string {
  const sel = `{link=${promqlString(link)}}`;
  return (
    `sum by (link) (${increase}(${numerator}${sel}[1m]))` +
    ` / (sum by (link) (${increase}(${denominator}${sel}[1m])) > 0)`
  );
}

/** Success fraction per minute: replies / probes sent. */
export function successQuery(link: string, increase: IncreaseFunction = 'increase'): string {
  return linkRatioQuery(PROBE_COUNTERS.received, PROBE_COUNTERS.sent, link, increase);
}

/** Mean round trip per minute in seconds (minutes without replies have none). */
export function latencyQuery(link: string, increase: IncreaseFunction = 'increase'): string {
  return linkRatioQuery(PROBE_COUNTERS.rttSum, PROBE_COUNTERS.rttCount, link, increase);
}

export interface PrometheusSlaSourceOptions {
  /** Base URL of Prometheus, e.g. http://prometheus:9090 (a path prefix is kept). */
  url: string;
  fetch?: typeof fetch;
  /** Points per range query (one per minute); default 10,000, at most 11,000. */
  maxPointsPerQuery?: number;
  /** Per request, including reading the answer; default 30 s. */
  timeoutMs?: number;
  /** The engine behind `url` (PROMETHEUS_ENGINE): its spelling of `increase`. Default `prometheus`. */
  engine?: EngineSetting;
}

export class PrometheusSlaSource {
  private readonly client: PrometheusClient;
  private readonly maxPoints: number;

  constructor(o: PrometheusSlaSourceOptions) {
    this.client = new PrometheusClient({
      url: o.url,
      ...(o.fetch ? { fetch: o.fetch } : {}),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      ...(o.engine ? { engine: o.engine } : {}),
    });
    this.maxPoints = o.maxPointsPerQuery ?? 10_000;
    if (!Number.isInteger(this.maxPoints) || this.maxPoints < 1 || this.maxPoints > PROMETHEUS_MAX_POINTS)
      throw new RangeError(
        `maxPointsPerQuery must be a whole number from 1 to ${PROMETHEUS_MAX_POINTS}, got ${this.maxPoints}`,
      );
  }

  /** The series of `link` for the minutes [start, end): samples at minute ends in (start, end]. */
  async linkSeries(link: string, start: Date, end: Date): Promise<LinkSeries> {
    const increase = await this.client.increaseFunction();
    const [availability, latencyMeanSeconds] = await Promise.all([
      this.range(successQuery(link, increase), start, end),
      this.range(latencyQuery(link, increase), start, end),
    ]);
    return { availability, latencyMeanSeconds, loss: availability.map(([t, v]) => [t, 1 - v] as const) };
  }

  /**
   * One-series `query` at every minute end in (start, end], in chunks of at most maxPointsPerQuery
   * points: chunk k asks for [from, from + (n − 1) min], the next starts a minute later.
   */
  async range(query: string, start: Date, end: Date): Promise<Array<[number, number]>> {
    const first = Math.ceil(start.getTime() / 60_000) * 60 + STEP_SECONDS;
    const last = Math.floor(end.getTime() / 60_000) * 60;
    const out: Array<[number, number]> = [];
    for (let from = first; from <= last; from += this.maxPoints * STEP_SECONDS) {
      const to = Math.min(last, from + (this.maxPoints - 1) * STEP_SECONDS);
      for (const [t, v] of await this.chunk(query, from, to)) out.push([t, v]);
    }
    return out;
  }

  private async chunk(query: string, from: number, to: number): Promise<Array<[number, number]>> {
    const series = await this.client.queryRange(query, from, to, STEP_SECONDS);
    if (series.length > 1)
      throw new Error(
        `Prometheus returned ${series.length} series where one was expected: query ${query} from ${iso(from)} to ${iso(to)}`,
      );
    return (series[0]?.values ?? []).map(([t, v]) => [Math.round(t), v]);
  }
}

function iso(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString();
}
