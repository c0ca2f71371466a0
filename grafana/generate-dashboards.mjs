// Writes grafana/dashboards/*.json (Grafana 11+ schema) from the compact descriptions below, so every
// panel has units, legends and links set the same way. Usage: node grafana/generate-dashboards.mjs
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// Optional output directory (tests compare a fresh generation without rewriting the committed files).
const outDir = process.argv[2] ?? join(here, 'dashboards');
const PROM = { type: 'prometheus', uid: 'ispmon-prometheus' };
const PG = { type: 'grafana-postgresql-datasource', uid: 'ispmon-alert-history' };

let nextId = 1;
function panel(
  type,
  title,
  targets,
  { unit, w = 12, h = 8, min, max, thresholds, legend = '{{router}}', description, links } = {},
) {
  return {
    id: nextId++,
    type,
    title,
    ...(description ? { description } : {}),
    datasource: targets[0]?.rawSql ? PG : PROM,
    gridPos: { w, h, x: 0, y: 0 },
    targets: targets.map((t, i) =>
      t.rawSql
        ? {
            refId: String.fromCharCode(65 + i),
            datasource: PG,
            format: 'table',
            rawQuery: true,
            editorMode: 'code',
            rawSql: t.rawSql,
          }
        : {
            refId: String.fromCharCode(65 + i),
            datasource: PROM,
            expr: t.expr,
            legendFormat: t.legend ?? legend,
            ...(t.instant ? { instant: true, range: false } : {}),
          },
    ),
    fieldConfig: {
      defaults: {
        ...(unit ? { unit } : {}),
        ...(min !== undefined ? { min } : {}),
        ...(max !== undefined ? { max } : {}),
        ...(thresholds ? { thresholds: { mode: 'absolute', steps: thresholds } } : {}),
        ...(links ? { links } : {}),
      },
      overrides: [],
    },
    options:
      type === 'timeseries'
        ? {
            legend: { displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] },
            tooltip: { mode: 'multi' },
          }
        : type === 'stat'
          ? { reduceOptions: { calcs: ['lastNotNull'] }, colorMode: 'background' }
          : {},
  };
}
const ts = (title, targets, o) => panel('timeseries', title, targets, o);
const stat = (title, targets, o) => panel('stat', title, targets, { w: 6, h: 4, ...o });
const table = (title, targets, o) => panel('table', title, targets, { w: 24, ...o });
const bar = (title, targets, o) => panel('bargauge', title, targets, o);

function layout(panels) {
  let x = 0;
  let y = 0;
  let rowH = 0;
  for (const p of panels) {
    if (x + p.gridPos.w > 24) {
      x = 0;
      y += rowH;
      rowH = 0;
    }
    p.gridPos.x = x;
    p.gridPos.y = y;
    x += p.gridPos.w;
    rowH = Math.max(rowH, p.gridPos.h);
  }
  return panels;
}

const queryVar = (name, query, label) => ({
  name,
  label,
  type: 'query',
  datasource: PROM,
  query: { query, refId: `${name}-var` },
  definition: query,
  refresh: 2,
  includeAll: true,
  multi: true,
  allValue: '.*',
  current: {},
  sort: 1,
});

function dashboard(uid, title, panels, variables = [], tags = []) {
  nextId = 1;
  return {
    uid,
    title,
    tags: ['ispmon', ...tags],
    schemaVersion: 39,
    version: 1,
    editable: true,
    timezone: 'browser',
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: { list: variables },
    links: [
      {
        title: 'ispmon dashboards',
        type: 'dashboards',
        tags: ['ispmon'],
        asDropdown: true,
        includeVars: false,
        keepTime: true,
      },
    ],
    annotations: { list: [] },
    panels: layout(panels.map((p) => ({ ...p, id: nextId++ }))),
  };
}

const routerLink = [
  { title: 'Router detail', url: '/d/ispmon-router?var-router=${__field.labels.router}&${__url_time_range}' },
];
const linkLink = [
  { title: 'Link SLA', url: '/d/ispmon-link-sla?var-link=${__field.labels.link}&${__url_time_range}' },
];

const dashboards = {
  'network-overview': dashboard('ispmon-overview', 'ispmon · Network overview', [
    stat('Routers up', [{ expr: 'sum(mikrotik_up)', instant: true }], {
      thresholds: [{ color: 'green', value: null }],
    }),
    stat('Routers down', [{ expr: 'count(mikrotik_up == 0) or vector(0)', instant: true }], {
      thresholds: [
        { color: 'green', value: null },
        { color: 'red', value: 1 },
      ],
    }),
    stat('SNMP devices down', [{ expr: 'count(snmp_up == 0) or vector(0)', instant: true }], {
      thresholds: [
        { color: 'green', value: null },
        { color: 'red', value: 1 },
      ],
    }),
    stat('Active PPP sessions', [{ expr: 'sum(mikrotik_ppp_active_sessions)', instant: true }], {
      unit: 'short',
    }),
    table('Routers', [{ expr: 'mikrotik_up', instant: true }], { h: 8, links: routerLink }),
    ts(
      'Top 10 interfaces by received traffic',
      [
        {
          expr: 'topk(10, router_interface:mikrotik_interface_receive_bits:rate5m)',
          legend: '{{router}} {{interface}}',
        },
      ],
      { unit: 'bps' },
    ),
    ts(
      'Top 10 interfaces by transmitted traffic',
      [
        {
          expr: 'topk(10, router_interface:mikrotik_interface_transmit_bits:rate5m)',
          legend: '{{router}} {{interface}}',
        },
      ],
      { unit: 'bps' },
    ),
    ts('Active PPP sessions by router', [{ expr: 'router:mikrotik_ppp_active_sessions:sum' }], {
      unit: 'short',
    }),
    table('Firing alerts', [{ expr: 'ALERTS{alertstate="firing"}', instant: true }], { h: 8 }),
    ts('Scrape duration by router', [{ expr: 'max by (router) (mikrotik_scrape_duration_seconds)' }], {
      unit: 's',
    }),
  ]),
  'router-detail': dashboard(
    'ispmon-router',
    'ispmon · Router detail',
    [
      stat('Up', [{ expr: 'mikrotik_up{router=~"$router"}', instant: true }], {
        thresholds: [
          { color: 'red', value: null },
          { color: 'green', value: 1 },
        ],
      }),
      stat('Uptime', [{ expr: 'mikrotik_system_uptime_seconds{router=~"$router"}', instant: true }], {
        unit: 's',
      }),
      stat('CPU', [{ expr: 'router:mikrotik_cpu_load:ratio{router=~"$router"}', instant: true }], {
        unit: 'percentunit',
        thresholds: [
          { color: 'green', value: null },
          { color: 'orange', value: 0.7 },
          { color: 'red', value: 0.85 },
        ],
      }),
      stat('Memory used', [{ expr: 'router:mikrotik_memory_used:ratio{router=~"$router"}', instant: true }], {
        unit: 'percentunit',
        thresholds: [
          { color: 'green', value: null },
          { color: 'red', value: 0.9 },
        ],
      }),
      table('Identity and version', [{ expr: 'mikrotik_system_info{router=~"$router"}', instant: true }], {
        h: 5,
      }),
      ts('CPU load', [{ expr: 'router:mikrotik_cpu_load:ratio{router=~"$router"}' }], {
        unit: 'percentunit',
        min: 0,
        max: 1,
      }),
      ts(
        'Temperature',
        [{ expr: 'mikrotik_health_temperature_celsius{router=~"$router"}', legend: '{{router}} {{sensor}}' }],
        {
          unit: 'celsius',
          thresholds: [
            { color: 'green', value: null },
            { color: 'red', value: 70 },
          ],
        },
      ),
      ts(
        'Received per interface',
        [
          {
            expr: 'router_interface:mikrotik_interface_receive_bits:rate5m{router=~"$router"}',
            legend: '{{interface}}',
          },
        ],
        { unit: 'bps' },
      ),
      ts(
        'Transmitted per interface',
        [
          {
            expr: 'router_interface:mikrotik_interface_transmit_bits:rate5m{router=~"$router"}',
            legend: '{{interface}}',
          },
        ],
        { unit: 'bps' },
      ),
      ts(
        'Errors and drops per second',
        [
          {
            expr: 'rate(mikrotik_interface_receive_errors_total{router=~"$router"}[$__rate_interval]) + rate(mikrotik_interface_receive_drops_total{router=~"$router"}[$__rate_interval])',
            legend: '{{interface}}',
          },
        ],
        { unit: 'pps' },
      ),
      table(
        'Interfaces not running',
        [{ expr: 'mikrotik_interface_running{router=~"$router"} == 0', instant: true }],
        { h: 6 },
      ),
      ts(
        'PPP sessions by profile',
        [
          {
            expr: 'sum by (profile) (mikrotik_ppp_active_sessions{router=~"$router"})',
            legend: '{{profile}}',
          },
        ],
        { unit: 'short' },
      ),
      bar(
        'IP pool use',
        [
          {
            expr: 'mikrotik_ip_pool_used_addresses{router=~"$router"} / mikrotik_ip_pool_size_addresses{router=~"$router"}',
            legend: '{{pool}}',
            instant: true,
          },
        ],
        { unit: 'percentunit', min: 0, max: 1 },
      ),
      table(
        'Netwatch hosts down',
        [{ expr: 'mikrotik_netwatch_up{router=~"$router"} == 0', instant: true }],
        { h: 6 },
      ),
    ],
    [queryVar('router', 'label_values(mikrotik_up, router)', 'Router')],
    ['routeros'],
  ),
  'snmp-device': dashboard(
    'ispmon-snmp',
    'ispmon · SNMP device and interfaces',
    [
      stat('Up', [{ expr: 'snmp_up{device=~"$device"}', instant: true }], {
        thresholds: [
          { color: 'red', value: null },
          { color: 'green', value: 1 },
        ],
      }),
      ts(
        'Received per interface',
        [
          {
            expr: 'device_interface:ifHCInOctets_bits:rate5m{device=~"$device"}',
            legend: '{{ifName}} {{ifAlias}}',
          },
        ],
        { unit: 'bps' },
      ),
      ts(
        'Transmitted per interface',
        [
          {
            expr: 'device_interface:ifHCOutOctets_bits:rate5m{device=~"$device"}',
            legend: '{{ifName}} {{ifAlias}}',
          },
        ],
        { unit: 'bps' },
      ),
      ts(
        'Utilisation',
        [
          {
            expr: 'device_interface:snmp_interface_utilisation:ratio_rate5m{device=~"$device"}',
            legend: '{{ifName}}',
          },
        ],
        { unit: 'percentunit', min: 0, max: 1 },
      ),
      table(
        'Interfaces down while admin up',
        [
          {
            expr: 'ifOperStatus{device=~"$device"} != 1 and on (instance, ifIndex) ifAdminStatus == 1',
            instant: true,
          },
        ],
        { h: 6 },
      ),
    ],
    [queryVar('device', 'label_values(snmp_up, device)', 'Device')],
    ['snmp'],
  ),
  'link-sla': dashboard(
    'ispmon-link-sla',
    'ispmon · Client link SLA',
    [
      stat(
        'Availability (30 days)',
        [{ expr: 'link:probe_availability:ratio_30d{link=~"$link"}', instant: true }],
        {
          unit: 'percentunit',
          thresholds: [
            { color: 'red', value: null },
            { color: 'orange', value: 0.99 },
            { color: 'green', value: 0.995 },
          ],
        },
      ),
      stat(
        'Commitment',
        [{ expr: 'max by (link) (ispmon_link_sla_availability_target_ratio{link=~"$link"})', instant: true }],
        { unit: 'percentunit' },
      ),
      stat(
        'Error budget left',
        [
          {
            expr: '1 - (1 - link:probe_availability:ratio_30d{link=~"$link"}) / on (link) group_left () (1 - max by (link) (ispmon_link_sla_availability_target_ratio))',
            instant: true,
          },
        ],
        { unit: 'percentunit' },
      ),
      stat('Loss (1 min)', [{ expr: 'link:probe_loss:ratio_1m{link=~"$link"}', instant: true }], {
        unit: 'percentunit',
      }),
      ts(
        'Availability per minute',
        [{ expr: 'link:probe_availability:ratio_1m{link=~"$link"}', legend: '{{link}}' }],
        { unit: 'percentunit', min: 0, max: 1, links: linkLink },
      ),
      ts(
        'Latency mean and p95 against commitment',
        [
          { expr: 'link:probe_rtt_seconds:mean_1m{link=~"$link"}', legend: '{{link}} mean' },
          { expr: 'link:probe_rtt_seconds:p95_1m{link=~"$link"}', legend: '{{link}} p95' },
          {
            expr: 'max by (link) (ispmon_link_sla_latency_target_seconds{link=~"$link"})',
            legend: '{{link}} commitment',
          },
        ],
        { unit: 's' },
      ),
      ts(
        'Packet loss against commitment',
        [
          { expr: 'link:probe_loss:ratio_1m{link=~"$link"}', legend: '{{link}} loss' },
          {
            expr: 'max by (link) (ispmon_link_sla_loss_target_ratio{link=~"$link"})',
            legend: '{{link}} commitment',
          },
        ],
        { unit: 'percentunit' },
      ),
    ],
    [queryVar('link', 'label_values(ispmon_link_sla_availability_target_ratio, link)', 'Link')],
    ['sla'],
  ),
  'alert-history': dashboard('ispmon-alert-history', 'ispmon · Alert history', [
    table(
      'Incidents (last 7 days)',
      [
        {
          rawSql:
            "SELECT starts_at AS \"started\", resolved_at AS \"resolved\", status, severity, alertname, labels->>'router' AS router, labels->>'link' AS link, summary FROM incidents WHERE starts_at > now() - interval '7 days' ORDER BY starts_at DESC LIMIT 500",
        },
      ],
      { h: 12 },
    ),
    ts(
      'Incidents per hour by severity',
      [
        {
          rawSql:
            "SELECT date_trunc('hour', starts_at) AS time, severity AS metric, count(*) AS value FROM incidents WHERE $__timeFilter(starts_at) GROUP BY 1, 2 ORDER BY 1",
        },
      ],
      { unit: 'short' },
    ),
    stat(
      'Mean time to acknowledge (7 days)',
      [
        {
          rawSql:
            "SELECT avg(extract(epoch FROM acknowledged_at - starts_at)) AS value FROM incidents WHERE acknowledged_at IS NOT NULL AND starts_at > now() - interval '7 days'",
        },
      ],
      { unit: 's', w: 12 },
    ),
    stat(
      'Mean time to resolve (7 days)',
      [
        {
          rawSql:
            "SELECT avg(extract(epoch FROM resolved_at - starts_at)) AS value FROM incidents WHERE resolved_at IS NOT NULL AND starts_at > now() - interval '7 days'",
        },
      ],
      { unit: 's', w: 12 },
    ),
  ]),
  'billing-overview': dashboard('ispmon-billing', 'ispmon · Billing overview', [
    stat(
      'Active subscriptions',
      [{ expr: 'sum(ispmon_billing_subscriptions{status="active"})', instant: true }],
      { unit: 'short' },
    ),
    stat(
      'Suspended subscriptions',
      [{ expr: 'sum(ispmon_billing_subscriptions{status="suspended"})', instant: true }],
      { unit: 'short' },
    ),
    stat('Overdue amount (IDR)', [{ expr: 'sum(ispmon_billing_overdue_amount_idr)', instant: true }], {
      unit: 'currencyIDR',
    }),
    stat(
      'Router sync failures (24 h)',
      [{ expr: 'sum(increase(ispmon_billing_router_sync_failures_total[24h]))', instant: true }],
      {
        unit: 'short',
        thresholds: [
          { color: 'green', value: null },
          { color: 'red', value: 1 },
        ],
      },
    ),
    ts(
      'Invoices by status',
      [{ expr: 'sum by (status) (ispmon_billing_invoices{status=~".+"})', legend: '{{status}}' }],
      { unit: 'short' },
    ),
    ts(
      'Suspensions and restores per hour',
      [
        { expr: 'sum(increase(ispmon_billing_suspensions_total[1h]))', legend: 'suspensions' },
        { expr: 'sum(increase(ispmon_billing_restores_total[1h]))', legend: 'restores' },
      ],
      { unit: 'short' },
    ),
    ts(
      'Midtrans notifications by outcome',
      [
        {
          expr: 'sum by (outcome) (rate(ispmon_billing_midtrans_notifications_total[$__rate_interval]))',
          legend: '{{outcome}}',
        },
      ],
      { unit: 'reqps' },
    ),
  ]),
};

for (const [name, json] of Object.entries(dashboards)) {
  writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
}
console.log(`wrote ${Object.keys(dashboards).length} dashboards`);
