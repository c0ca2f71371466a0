// Minute series of one client link from Prometheus: range queries (step 60 s) of the link recording
// rules, split into chunks below Prometheus's 11,000-points-per-series limit, without gaps or
// duplicates at chunk edges.
import type { MinuteSeries } from './types.js';

export const LINK_SERIES = {
  availability: 'link:probe_availability:ratio_1m',
  latencyMeanSeconds: 'link:probe_rtt_seconds:mean_1m',
  loss: 'link:probe_loss:ratio_1m',
} as const;

export interface LinkSeries {
  availability: MinuteSeries;
  latencyMeanSeconds: MinuteSeries;
  loss: MinuteSeries;
}

export function labelValue(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

export class PrometheusSlaSource {
  private readonly fetchImpl: typeof fetch;
  private readonly maxPoints: number;

  constructor(
    private readonly o: { url: string; fetch?: typeof fetch; maxPointsPerQuery?: number; timeoutMs?: number },
  ) {
    this.fetchImpl = o.fetch ?? fetch;
    this.maxPoints = o.maxPointsPerQuery ?? 10_000;
  }

  /** Samples at minute ends in (start, end]: the minutes [start, end). */
  async linkSeries(link: string, start: Date, end: Date): Promise<LinkSeries> {
    const [availability, latencyMeanSeconds, loss] = await Promise.all(
      [LINK_SERIES.availability, LINK_SERIES.latencyMeanSeconds, LINK_SERIES.loss].map((metric) => {
        // Only samples written within the minute: without this, Prometheus's 5-minute lookback would
        // repeat the last value into minutes that had none (no replies → no latency sample).
        const selector = `${metric}{link=${labelValue(link)}}`;
        return this.range(`${selector} and (time() - timestamp(${selector}) < 60)`, start, end);
      }),
    );
    return {
      availability: availability ?? [],
      latencyMeanSeconds: latencyMeanSeconds ?? [],
      loss: loss ?? [],
    };
  }

  async range(query: string, start: Date, end: Date): Promise<Array<[number, number]>> {
    const out: Array<[number, number]> = [];
    const first = Math.ceil(start.getTime() / 60_000) * 60 + 60;
    const last = Math.floor(end.getTime() / 60_000) * 60;
    for (let from = first; from <= last; from += this.maxPoints * 60) {
      const to = Math.min(last, from + (this.maxPoints - 1) * 60);
      const params = new URLSearchParams({ query, start: String(from), end: String(to), step: '60' });
      let res: Response;
      try {
        res = await this.fetchImpl(`${this.o.url}/api/v1/query_range?${params}`, {
          signal: AbortSignal.timeout(this.o.timeoutMs ?? 30_000),
        });
      } catch (err) {
        throw new Error(`Prometheus unreachable for ${query}: ${(err as Error).message}`);
      }
      const body = (await res.json().catch(() => undefined)) as
        | { status?: string; error?: string; data?: { result?: Array<{ values: Array<[number, string]> }> } }
        | undefined;
      if (!res.ok || body?.status !== 'success')
        throw new Error(`Prometheus query ${query} failed: HTTP ${res.status} ${body?.error ?? ''}`.trim());
      const series = body.data?.result ?? [];
      if (series.length > 1)
        throw new Error(
          `Prometheus query ${query} returned ${series.length} series; link ids must be unique`,
        );
      for (const [t, v] of series[0]?.values ?? []) out.push([Math.round(t), Number(v)]);
    }
    return out;
  }
}
