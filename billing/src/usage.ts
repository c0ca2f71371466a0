// Traffic per subscription and per customer for a period, from the exporter's per-subscriber PPP
// counters in Prometheus (mikrotik_ppp_session_{upload,download}_bytes_total{router,user}). increase()
// handles the counter resets of every reconnect (increase_prometheus() on VictoriaMetrics, the same
// function there). For usage statements and fair-use plans.
//
// Coverage counts the period's scrape slots (30 s, the routers' scrape interval) that hold a sample, not
// samples: behind a shard pair, VictoriaMetrics deduplicating at 15 s (the probes' interval) keeps both
// members' samples of a 30 s job, up to two per slot, and a sample count read twice the data there was.
import type { MikroORM } from '@mikro-orm/postgresql';
import { ApiError, notFound, q } from './db/sql.js';
import { PrometheusQueryError, type PrometheusClient } from './prometheus/client.js';
import { promqlString } from './sla/prometheus.js';

export interface UsageFigures {
  from: string;
  to: string;
  upload_bytes: number;
  download_bytes: number;
  /** Share of the period's scrape slots that had data (0..1): how much to trust the figures. */
  coverage: number;
}

/** Prometheus scrapes routers every 30 s (prometheus/prometheus.yml's global scrape_interval). */
export const ROUTER_SCRAPE_SECONDS = 30;
/** Slots per period at most: a 31-day month at 30 s; longer periods count wider slots. */
export const MAX_COVERAGE_SLOTS = 89_280;
/** Slots per coverage query: VictoriaMetrics 1.79 answers at most 30,000 points per series of a subquery
 * (-search.maxPointsPerTimeseries), so a month is asked in four pieces of at most 10 days. */
export const COVERAGE_CHUNK_SLOTS = 28_800;

/** The slot coverage counts in: the scrape interval, or a whole multiple of it beyond 31 days. */
export function coverageSlotSeconds(periodSeconds: number): number {
  return (
    ROUTER_SCRAPE_SECONDS * Math.max(1, Math.ceil(periodSeconds / ROUTER_SCRAPE_SECONDS / MAX_COVERAGE_SLOTS))
  );
}

/**
 * Per series of `selectors`, how many `slot`-second slots of the `seconds` before the query's time hold at
 * least one sample of the download counter. The subquery's range is 1 ms short: Prometheus 2 also
 * evaluates a step at the range's start, whose slot lies before it.
 */
export function coverageQuery(selectors: string[], seconds: number, slot: number): string {
  return selectors
    .map(
      (s) =>
        `count_over_time(count_over_time(mikrotik_ppp_session_download_bytes_total{${s}}[${slot}s])[${seconds * 1000 - 1}ms:${slot}s])`,
    )
    .join(' or ');
}

/** Share of [from, to)'s slots with data, for the best-covered series of `selectors`, in pieces the engine answers. */
async function coverage(prometheus: PrometheusClient, selectors: string[], to: Date, periodSeconds: number) {
  const slot = coverageSlotSeconds(periodSeconds);
  const chunkSeconds = COVERAGE_CHUNK_SLOTS * slot;
  const pieces: Array<{ at: Date; seconds: number }> = [];
  for (
    let left = periodSeconds, end = to.getTime();
    left > 0;
    left -= chunkSeconds, end -= chunkSeconds * 1000
  )
    pieces.push({ at: new Date(end), seconds: Math.min(left, chunkSeconds) });
  const perSeries = new Map<string, number>();
  for (const answer of await Promise.all(
    pieces.map((p) => prometheus.query(coverageQuery(selectors, p.seconds, slot), p.at)),
  ))
    for (const { metric, value } of answer) {
      const key = JSON.stringify(Object.entries(metric).sort());
      perSeries.set(key, (perSeries.get(key) ?? 0) + value);
    }
  const slots = Math.max(1, periodSeconds / slot);
  return Math.min(1, Math.max(0, ...perSeries.values()) / slots);
}

/** Bytes up and down over [from, to) for `selectors` (router/user label matchers), and their coverage. */
export async function usageFigures(
  prometheus: PrometheusClient,
  selectors: string[],
  from: Date,
  to: Date,
): Promise<UsageFigures> {
  const periodSeconds = Math.round((to.getTime() - from.getTime()) / 1000);
  if (selectors.length === 0) return noUsage(from, to);
  const increase = await prometheus.increaseFunction();
  const sum = async (metric: string): Promise<number> => {
    const expr = `sum(${selectors.map((s) => `${increase}(${metric}{${s}}[${periodSeconds}s])`).join(' or ')})`;
    return Math.round((await prometheus.query(expr, to))[0]?.value ?? 0);
  };
  const [up, down, covered] = await Promise.all([
    sum('mikrotik_ppp_session_upload_bytes_total'),
    sum('mikrotik_ppp_session_download_bytes_total'),
    coverage(prometheus, selectors, to, periodSeconds),
  ]);
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    upload_bytes: up,
    download_bytes: down,
    coverage: covered,
  };
}

/** The figures of a customer without subscriptions: nothing to ask Prometheus. */
export function noUsage(from: Date, to: Date): UsageFigures {
  return { from: from.toISOString(), to: to.toISOString(), upload_bytes: 0, download_bytes: 0, coverage: 0 };
}

export class UsageService {
  constructor(
    private readonly orm: MikroORM,
    private readonly prometheus: PrometheusClient | undefined,
  ) {}

  private period(query: Record<string, unknown>, now: Date): { from: Date; to: Date } {
    const parse = (name: string, v: unknown, fallback: Date): Date => {
      if (v === undefined) return fallback;
      if (typeof v !== 'string' || Number.isNaN(Date.parse(v)))
        throw new ApiError(400, `${name}: must be an ISO date-time`, name);
      return new Date(v);
    };
    const to = parse('to', query.to, now);
    const from = parse('from', query.from, new Date(to.getTime() - 30 * 86_400_000));
    if (from >= to) throw new ApiError(400, 'from: must be before to', 'from');
    if (to.getTime() - from.getTime() > 400 * 86_400_000)
      throw new ApiError(400, 'from: period longer than 400 days', 'from');
    return { from, to };
  }

  private connected(): PrometheusClient {
    if (!this.prometheus)
      throw new ApiError(503, 'usage needs PROMETHEUS_URL (billing is not connected to Prometheus)');
    return this.prometheus;
  }

  /** `ask`, with Prometheus's errors as API errors: 502 for a refused query, 503 when unavailable. */
  private async asked<T>(ask: () => Promise<T>): Promise<T> {
    try {
      return await ask();
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (err instanceof PrometheusQueryError && err.kind === 'refused')
        throw new ApiError(502, `Prometheus query failed: ${err.message}`);
      throw new ApiError(503, `Prometheus unavailable: ${(err as Error).message}`);
    }
  }

  private async figures(selectors: string[], from: Date, to: Date): Promise<UsageFigures> {
    if (selectors.length === 0) return noUsage(from, to);
    return this.asked(() => usageFigures(this.connected(), selectors, from, to));
  }

  async subscription(
    id: string,
    query: Record<string, unknown>,
    now: Date,
  ): Promise<UsageFigures & { subscription_id: number }> {
    const { from, to } = this.period(query, now);
    const rows = await q<{ ppp_username: string; router: string }>(
      this.orm.em.fork(),
      'select s.ppp_username, r.name as router from subscriptions s join routers r on r.id = s.router_id where s.id = ?',
      [id],
    );
    const row = rows[0];
    if (!row) throw notFound('subscription', id);
    return {
      subscription_id: Number(id),
      ...(await this.figures(
        [`router=${promqlString(row.router)},user=${promqlString(row.ppp_username)}`],
        from,
        to,
      )),
    };
  }

  async customer(
    id: string,
    query: Record<string, unknown>,
    now: Date,
  ): Promise<UsageFigures & { customer_id: number; subscriptions: number }> {
    const { from, to } = this.period(query, now);
    const rows = await q<{ ppp_username: string; router: string }>(
      this.orm.em.fork(),
      "select s.ppp_username, r.name as router from subscriptions s join routers r on r.id = s.router_id where s.customer_id = ? and s.status <> 'cancelled'",
      [id],
    );
    const selectors = rows.map(
      (r) => `router=${promqlString(r.router)},user=${promqlString(r.ppp_username)}`,
    );
    return {
      customer_id: Number(id),
      subscriptions: rows.length,
      ...(await this.figures(selectors, from, to)),
    };
  }
}
