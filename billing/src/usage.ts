// Traffic per subscription and per customer for a period, from the exporter's per-subscriber PPP
// counters in Prometheus (mikrotik_ppp_session_{upload,download}_bytes_total{router,user}). increase()
// handles the counter resets of every reconnect (increase_prometheus() on VictoriaMetrics, the same
// function there). For usage statements and fair-use plans.
import type { MikroORM } from '@mikro-orm/postgresql';
import { ApiError, notFound, q } from './db/sql.js';
import { PrometheusQueryError, type PrometheusClient } from './prometheus/client.js';
import { promqlString } from './sla/prometheus.js';

export interface UsageFigures {
  from: string;
  to: string;
  upload_bytes: number;
  download_bytes: number;
  /** Share of the period's scrape points that had data (0..1): how much to trust the figures. */
  coverage: number;
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

  private async instant(expr: string, at: Date): Promise<number> {
    return this.asked(async () => (await this.connected().query(expr, at))[0]?.value ?? 0);
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
    const range = `${Math.round((to.getTime() - from.getTime()) / 1000)}s`;
    const increase = selectors.length
      ? await this.asked(() => this.connected().increaseFunction())
      : 'increase';
    const sum = async (metric: string): Promise<number> => {
      if (selectors.length === 0) return 0;
      const expr = `sum(${selectors.map((s) => `${increase}(${metric}{${s}}[${range}])`).join(' or ')})`;
      return Math.round(await this.instant(expr, to));
    };
    const [up, down, points] = await Promise.all([
      sum('mikrotik_ppp_session_upload_bytes_total'),
      sum('mikrotik_ppp_session_download_bytes_total'),
      selectors.length
        ? this.instant(
            `max(${selectors.map((s) => `count_over_time(mikrotik_ppp_session_download_bytes_total{${s}}[${range}])`).join(' or ')})`,
            to,
          )
        : Promise.resolve(0),
    ]);
    const scrapes = Math.max(1, (to.getTime() - from.getTime()) / 30_000); // Prometheus scrapes routers every 30 s
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      upload_bytes: up,
      download_bytes: down,
      coverage: Math.min(1, points / scrapes),
    };
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
