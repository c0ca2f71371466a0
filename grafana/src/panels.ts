// The building blocks of ispmon's dashboards, on Grafana's typed builders (grafana-foundation-sdk): every
// panel, query, threshold and variable is checked against Grafana's own schema types at typecheck, and
// every panel gets its units, legend and layout the same way.
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardBuilder,
  DashboardLinkBuilder,
  DashboardLinkType,
  MappingType,
  QueryVariableBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type DashboardLink,
  type DataSourceRef,
  type GridPos,
  type Panel,
  type Threshold,
  type ThresholdsConfig,
  type ValueMapping,
} from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

/** The datasources grafana/provisioning/datasources/ispmon.yml defines. */
export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: 'ispmon-prometheus' };
export const ALERT_HISTORY: DataSourceRef = {
  type: 'grafana-postgresql-datasource',
  uid: 'ispmon-alert-history',
};

/** A PromQL query; `legend` names the labels a series is shown by (none for single-value panels). */
export interface PromQuery {
  expr: string;
  legend?: string;
  instant?: boolean;
}
/** A SQL query on the alert router's database (the SDK has no builder for the PostgreSQL datasource). */
export interface SqlQuery {
  rawSql: string;
}
type Query = PromQuery | SqlQuery;

/** The PostgreSQL datasource's query model, as Grafana stores it. */
function sqlQuery(refId: string, rawSql: string): cog.Builder<cog.Dataquery> {
  return {
    build: () => ({
      refId,
      datasource: ALERT_HISTORY,
      format: 'table',
      rawQuery: true,
      editorMode: 'code',
      rawSql,
      _implementsDataqueryVariant: (): void => undefined,
    }),
  };
}

function target(q: Query, i: number): cog.Builder<cog.Dataquery> {
  const refId = String.fromCharCode(65 + i);
  if ('rawSql' in q) return sqlQuery(refId, q.rawSql);
  const b = new prometheus.DataqueryBuilder().refId(refId).datasource(PROMETHEUS).expr(q.expr);
  if (q.legend !== undefined) b.legendFormat(q.legend);
  if (q.instant) b.instant();
  return b;
}

export interface PanelOptions {
  unit?: string;
  w?: number;
  h?: number;
  min?: number;
  max?: number;
  /** Colour steps from the lowest value up: [colour, from] (the first one starts at -∞). */
  thresholds?: Array<[string, number | null]>;
  /** Value → text and colour, for state panels (1 = up, 0 = down). */
  states?: Record<string, [string, string]>;
  /** Links from a series to another dashboard (data links). */
  links?: Array<{ title: string; url: string }>;
  /** What an empty result means, shown instead of "No data". */
  noValue?: string;
}

/** Options every panel type shares; cog's panel builders all have these methods. */
interface CommonPanel<B> {
  title(t: string): B;
  datasource(d: DataSourceRef): B;
  withTarget(t: cog.Builder<cog.Dataquery>): B;
  unit(u: string): B;
  min(n: number): B;
  max(n: number): B;
  thresholds(t: cog.Builder<ThresholdsConfig>): B;
  mappings(m: ValueMapping[]): B;
  dataLinks(l: Array<cog.Builder<DashboardLink>>): B;
  noValue(v: string): B;
  span(w: number): B;
  height(h: number): B;
}

/** A panel and its place in the 24-column grid (placed by `dashboard`). */
export interface PlacedPanel {
  builder: cog.Builder<Panel> & { gridPos(p: GridPos): unknown; id(n: number): unknown };
  w: number;
  h: number;
}

function configure<B extends CommonPanel<B>>(
  panel: B,
  title: string,
  queries: Query[],
  o: PanelOptions,
  size: { w: number; h: number },
): B {
  panel.title(title).datasource(queries.some((q) => 'rawSql' in q) ? ALERT_HISTORY : PROMETHEUS);
  queries.forEach((q, i) => panel.withTarget(target(q, i)));
  if (o.unit) panel.unit(o.unit);
  if (o.min !== undefined) panel.min(o.min);
  if (o.max !== undefined) panel.max(o.max);
  if (o.thresholds) {
    const steps: Threshold[] = o.thresholds.map(([color, value]) => ({ color, value }));
    panel.thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps));
  }
  if (o.states) {
    const options = Object.fromEntries(
      Object.entries(o.states).map(([value, [text, color]], index) => [value, { text, color, index }]),
    );
    panel.mappings([{ type: MappingType.ValueToText, options }]);
  }
  if (o.links)
    panel.dataLinks(
      o.links.map((l) => new DashboardLinkBuilder(l.title).url(l.url).type(DashboardLinkType.Link)),
    );
  if (o.noValue) panel.noValue(o.noValue);
  panel.span(size.w).height(size.h);
  return panel;
}

export function statPanel(title: string, queries: Query[], o: PanelOptions = {}): PlacedPanel {
  const size = { w: o.w ?? 6, h: o.h ?? 4 };
  const p = configure(new stat.PanelBuilder(), title, queries, o, size)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']))
    .colorMode(common.BigValueColorMode.Background);
  return { builder: p, ...size };
}

export function timeseriesPanel(title: string, queries: Query[], o: PanelOptions = {}): PlacedPanel {
  const size = { w: o.w ?? 12, h: o.h ?? 8 };
  const p = configure(new timeseries.PanelBuilder(), title, queries, o, size)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .calcs(['lastNotNull', 'max']),
    )
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi));
  return { builder: p, ...size };
}

export function tablePanel(title: string, queries: Query[], o: PanelOptions = {}): PlacedPanel {
  const size = { w: o.w ?? 24, h: o.h ?? 8 };
  return { builder: configure(new table.PanelBuilder(), title, queries, o, size), ...size };
}

export function barGaugePanel(title: string, queries: Query[], o: PanelOptions = {}): PlacedPanel {
  const size = { w: o.w ?? 12, h: o.h ?? 8 };
  return { builder: configure(new bargauge.PanelBuilder(), title, queries, o, size), ...size };
}

/** A multi-value template variable over one label of a metric. */
export function labelVariable(name: string, label: string, metric: string): QueryVariableBuilder {
  const query = `label_values(${metric}, ${name})`;
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(PROMETHEUS)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .includeAll(true)
    .multi(true)
    .allValue('.*')
    .sort(VariableSort.AlphabeticalAsc);
}

/** A dashboard: panels placed left to right in rows of 24 columns, ids in order. */
export function dashboard(
  uid: string,
  title: string,
  panels: PlacedPanel[],
  variables: QueryVariableBuilder[] = [],
  tags: string[] = [],
): Dashboard {
  const b = new DashboardBuilder(title)
    .uid(uid)
    .tags(['ispmon', ...tags])
    .editable()
    .timezone('browser')
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .version(1)
    .link(
      new DashboardLinkBuilder('ispmon dashboards')
        .type(DashboardLinkType.Dashboards)
        .tags(['ispmon'])
        .asDropdown(true)
        .includeVars(false)
        .keepTime(true),
    );
  for (const v of variables) b.withVariable(v);
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  panels.forEach((p, i) => {
    if (x + p.w > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    p.builder.id(i + 1);
    p.builder.gridPos({ x, y, w: p.w, h: p.h });
    b.withPanel(p.builder);
    x += p.w;
    rowHeight = Math.max(rowHeight, p.h);
  });
  return b.build();
}
