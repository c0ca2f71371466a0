// Every query of every shipped Grafana dashboard (grafana/dashboards/*.json), evaluated the way Grafana
// would: PromQL against a real Prometheus with each variable set to a value Prometheus offers, and the
// alert-history SQL panels against the alert router's database. Shared by the stack and demo tests.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

interface Panel {
  title: string;
  targets?: Array<{ expr?: string; legendFormat?: string; rawSql?: string }>;
  fieldConfig?: { defaults?: { noValue?: string } };
}
interface Dashboard {
  title: string;
  panels: Panel[];
  templating?: { list: Array<{ name: string; definition?: string }> };
}

export interface DashboardSources {
  /** An instant PromQL query; rejects on a query error. */
  query(expr: string): Promise<Array<{ metric: Record<string, string> }>>;
  /** A SQL query on the alert router's database; rejects on an error. */
  sql(text: string): Promise<Array<Record<string, unknown>>>;
  /** What Grafana's $__rate_interval becomes: at least four scrape intervals, e.g. '40s' at 10 s. */
  rateInterval: string;
  /** Expressions the caller leaves out of this run (said by the caller); counted as skipped. */
  skip?: (expr: string) => boolean;
}

export interface DashboardEvaluation {
  /** Queries Prometheus or PostgreSQL refused, with dashboard, panel and query. */
  failures: string[];
  /** Variables and queries that returned no data (a panel with a `noValue` text may be empty by nature). */
  empty: string[];
  /** Legends naming a label the result does not have. */
  legends: string[];
  evaluated: number;
  skipped: number;
  total: number;
}

/** Every PromQL query of every dashboard, with its variables set to a value Prometheus offers. */
export async function evaluateDashboards(src: DashboardSources): Promise<DashboardEvaluation> {
  const dashboardsDir = join(repoRoot, 'grafana/dashboards');
  const failures: string[] = [];
  const empty: string[] = [];
  const legends: string[] = [];
  let evaluated = 0;
  let skipped = 0;
  let total = 0;
  for (const file of readdirSync(dashboardsDir).filter((f) => f.endsWith('.json'))) {
    const d = JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as Dashboard;
    total += (d.templating?.list ?? []).length;
    for (const p of d.panels) total += (p.targets ?? []).filter((t) => t.expr ?? t.rawSql).length;
    const values = new Map<string, string>();
    for (const v of d.templating?.list ?? []) {
      const m = /^label_values\((.+), (\w+)\)$/.exec(v.definition ?? '');
      if (!m) continue;
      evaluated += 1;
      const found = (await src.query(`group by (${m[2]}) (${m[1]})`))
        .map((x) => x.metric[m[2] ?? ''] ?? '')
        .filter(Boolean)
        .sort();
      if (found[0] === undefined) empty.push(`${file} / variable $${v.name}: ${v.definition}`);
      else values.set(v.name, found[0]);
    }
    for (const p of d.panels) {
      for (const t of p.targets ?? []) {
        if (t.rawSql) {
          // The alert history panels, on the alert router's database (Grafana's macro over 6 hours).
          evaluated += 1;
          const sql = t.rawSql.replace(/\$__timeFilter\((\w+)\)/g, "$1 > now() - interval '6 hours'");
          try {
            const rows = await src.sql(sql);
            const nothing = rows.length === 0 || rows.every((r) => Object.values(r).every((v) => v === null));
            // A mean over no acknowledged incident is empty by nature; the panel then says so.
            if (nothing && !p.fieldConfig?.defaults?.noValue) empty.push(`${file} / ${p.title}: ${sql}`);
          } catch (err) {
            failures.push(`${file} / ${p.title}: ${(err as Error).message}`);
          }
          continue;
        }
        if (!t.expr) continue;
        let expr = t.expr.replaceAll('$__rate_interval', src.rateInterval);
        for (const [name, value] of values) expr = expr.replaceAll(`$${name}`, value);
        const where = `${file} / ${p.title}: ${expr}`;
        if (src.skip?.(expr)) {
          skipped += 1;
          continue;
        }
        evaluated += 1;
        try {
          const result = await src.query(expr);
          if (result.length === 0) empty.push(where);
          for (const label of [...(t.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map(
            (m) => m[1] ?? '',
          ))
            if (result.some((r) => r.metric[label] === undefined))
              legends.push(`${where}: legend {{${label}}} is not a label of the result`);
        } catch (err) {
          failures.push(`${where}: ${(err as Error).message}`);
        }
      }
    }
  }
  return { failures, empty, legends, evaluated, skipped, total };
}
