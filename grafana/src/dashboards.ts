// ispmon's dashboards. Every panel shows data in a running stack (tests/monitoring/stack.test.ts checks
// each expression against real Prometheus): a count of problems is 0 only when there is something to
// count, state tables list every interface or host with its state instead of only the failing ones.
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  barGaugePanel as bar,
  dashboard,
  labelVariable,
  statPanel as stat,
  tablePanel as table,
  timeseriesPanel as ts,
} from './panels.ts';

const routerLink = [
  { title: 'Router detail', url: '/d/ispmon-router?var-router=${__field.labels.router}&${__url_time_range}' },
];
const linkLink = [
  { title: 'Link SLA', url: '/d/ispmon-link-sla?var-link=${__field.labels.link}&${__url_time_range}' },
];
const UP_DOWN: Record<string, [string, string]> = { '1': ['up', 'green'], '0': ['down', 'red'] };
const RED_FROM_ONE: Array<[string, number | null]> = [
  ['green', null],
  ['red', 1],
];

export const dashboards: Record<string, Dashboard> = {
  'network-overview': dashboard('ispmon-overview', 'ispmon · Network overview', [
    stat('Routers up', [{ expr: 'sum(mikrotik_up)', instant: true }], {
      thresholds: [['green', null]],
      noValue: 'no router monitored',
    }),
    // 0 only when there are routers to count: no routers shows "no router monitored", not a reassuring 0.
    stat('Routers down', [{ expr: 'count(mikrotik_up == 0) or 0 * count(mikrotik_up)', instant: true }], {
      thresholds: RED_FROM_ONE,
      noValue: 'no router monitored',
    }),
    stat('SNMP devices down', [{ expr: 'count(snmp_up == 0) or 0 * count(snmp_up)', instant: true }], {
      thresholds: RED_FROM_ONE,
      noValue: 'no SNMP device monitored',
    }),
    stat('Active PPP sessions', [{ expr: 'sum(router:mikrotik_ppp_active_sessions:sum)', instant: true }], {
      unit: 'short',
    }),
    table('Routers', [{ expr: 'mikrotik_up', instant: true }], {
      h: 8,
      links: routerLink,
      states: UP_DOWN,
    }),
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
    ts(
      'Active PPP sessions by router',
      [{ expr: 'router:mikrotik_ppp_active_sessions:sum', legend: '{{router}}' }],
      { unit: 'short' },
    ),
    table('Firing alerts', [{ expr: 'ALERTS{alertstate="firing"}', instant: true }], {
      h: 8,
      noValue: 'no alert firing',
    }),
    ts(
      'Scrape duration by router',
      [{ expr: 'max by (router) (mikrotik_scrape_duration_seconds)', legend: '{{router}}' }],
      { unit: 's' },
    ),
  ]),
  'router-detail': dashboard(
    'ispmon-router',
    'ispmon · Router detail',
    [
      stat('Up', [{ expr: 'mikrotik_up{router=~"$router"}', instant: true, legend: '{{router}}' }], {
        thresholds: [
          ['red', null],
          ['green', 1],
        ],
        states: UP_DOWN,
      }),
      stat(
        'Uptime',
        [{ expr: 'mikrotik_system_uptime_seconds{router=~"$router"}', instant: true, legend: '{{router}}' }],
        { unit: 's' },
      ),
      stat(
        'CPU',
        [{ expr: 'router:mikrotik_cpu_load:ratio{router=~"$router"}', instant: true, legend: '{{router}}' }],
        {
          unit: 'percentunit',
          thresholds: [
            ['green', null],
            ['orange', 0.7],
            ['red', 0.85],
          ],
        },
      ),
      stat(
        'Memory used',
        [
          {
            expr: 'router:mikrotik_memory_used:ratio{router=~"$router"}',
            instant: true,
            legend: '{{router}}',
          },
        ],
        {
          unit: 'percentunit',
          thresholds: [
            ['green', null],
            ['red', 0.9],
          ],
        },
      ),
      table('Identity and version', [{ expr: 'mikrotik_system_info{router=~"$router"}', instant: true }], {
        h: 5,
      }),
      ts('CPU load', [{ expr: 'router:mikrotik_cpu_load:ratio{router=~"$router"}', legend: '{{router}}' }], {
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
            ['green', null],
            ['red', 70],
          ],
        },
      ),
      ts(
        'Received per interface',
        [
          {
            expr: 'router_interface:mikrotik_interface_receive_bits:rate5m{router=~"$router"}',
            legend: '{{router}} {{interface}}',
          },
        ],
        { unit: 'bps' },
      ),
      ts(
        'Transmitted per interface',
        [
          {
            expr: 'router_interface:mikrotik_interface_transmit_bits:rate5m{router=~"$router"}',
            legend: '{{router}} {{interface}}',
          },
        ],
        { unit: 'bps' },
      ),
      // The sum RouterInterfaceErrors compares with its threshold.
      ts(
        'Errors and drops per second',
        [
          {
            expr:
              'rate(mikrotik_interface_receive_errors_total{router=~"$router"}[$__rate_interval])' +
              ' + rate(mikrotik_interface_transmit_errors_total{router=~"$router"}[$__rate_interval])' +
              ' + rate(mikrotik_interface_receive_drops_total{router=~"$router"}[$__rate_interval])' +
              ' + rate(mikrotik_interface_transmit_drops_total{router=~"$router"}[$__rate_interval])',
            legend: '{{router}} {{interface}}',
          },
        ],
        { unit: 'pps' },
      ),
      table(
        'Interface link state',
        [{ expr: 'mikrotik_interface_running{router=~"$router"}', instant: true }],
        { h: 6, w: 12, states: { '1': ['running', 'green'], '0': ['no link', 'red'] } },
      ),
      table('Netwatch hosts', [{ expr: 'mikrotik_netwatch_up{router=~"$router"}', instant: true }], {
        h: 6,
        w: 12,
        states: UP_DOWN,
        noValue: 'no netwatch entry on the router',
      }),
      ts(
        'PPP sessions by profile',
        [
          {
            expr: 'sum by (router, profile) (mikrotik_ppp_active_sessions{router=~"$router"})',
            legend: '{{router}} {{profile}}',
          },
        ],
        { unit: 'short' },
      ),
      bar(
        'IP pool use',
        [
          {
            expr: 'mikrotik_ip_pool_used_addresses{router=~"$router"} / mikrotik_ip_pool_size_addresses{router=~"$router"}',
            legend: '{{router}} {{pool}}',
            instant: true,
          },
        ],
        { unit: 'percentunit', min: 0, max: 1 },
      ),
    ],
    [labelVariable('router', 'Router', 'mikrotik_up')],
    ['routeros'],
  ),
  'snmp-device': dashboard(
    'ispmon-snmp',
    'ispmon · SNMP device and interfaces',
    [
      stat('Up', [{ expr: 'snmp_up{device=~"$device"}', instant: true, legend: '{{device}}' }], {
        thresholds: [
          ['red', null],
          ['green', 1],
        ],
        states: UP_DOWN,
        noValue: 'no SNMP device monitored',
      }),
      ts(
        'Received per interface',
        [
          {
            expr: 'device_interface:ifHCInOctets_bits:rate5m{device=~"$device"}',
            legend: '{{device}} {{ifName}}',
          },
        ],
        { unit: 'bps' },
      ),
      ts(
        'Transmitted per interface',
        [
          {
            expr: 'device_interface:ifHCOutOctets_bits:rate5m{device=~"$device"}',
            legend: '{{device}} {{ifName}}',
          },
        ],
        { unit: 'bps' },
      ),
      ts(
        'Utilisation',
        [
          {
            expr: 'device_interface:snmp_interface_utilisation:ratio_rate5m{device=~"$device"}',
            legend: '{{device}} {{ifName}}',
          },
        ],
        { unit: 'percentunit', min: 0, max: 1 },
      ),
      // Operational state of every administratively enabled interface (IF-MIB ifOperStatus values).
      table(
        'Operational state of enabled interfaces',
        [
          {
            expr: 'ifOperStatus{device=~"$device"} and on (instance, job, ifIndex) ifAdminStatus == 1',
            instant: true,
          },
        ],
        {
          h: 6,
          states: {
            '1': ['up', 'green'],
            '2': ['down', 'red'],
            '3': ['testing', 'orange'],
            '5': ['dormant', 'orange'],
            '7': ['lower layer down', 'red'],
          },
        },
      ),
    ],
    // Devices with an interface table: one polled by its system group only (the demo's recorded Cisco) has
    // nothing for these panels; within the dashboard's time range a device that went down stays listed.
    [labelVariable('device', 'Device', 'ifAdminStatus')],
    ['snmp'],
  ),
  'link-sla': dashboard(
    'ispmon-link-sla',
    'ispmon · Client link SLA',
    [
      stat(
        'Availability (30 days)',
        [{ expr: 'link:probe_availability:ratio_30d{link=~"$link"}', instant: true, legend: '{{link}}' }],
        {
          unit: 'percentunit',
          thresholds: [
            ['red', null],
            ['orange', 0.99],
            ['green', 0.995],
          ],
        },
      ),
      stat(
        'Commitment',
        [
          {
            expr: 'max by (link) (ispmon_link_sla_availability_target_ratio{link=~"$link"})',
            instant: true,
            legend: '{{link}}',
          },
        ],
        { unit: 'percentunit' },
      ),
      stat(
        'Error budget left',
        [
          {
            expr: '1 - (1 - link:probe_availability:ratio_30d{link=~"$link"}) / on (link) group_left () (1 - max by (link) (ispmon_link_sla_availability_target_ratio))',
            instant: true,
            legend: '{{link}}',
          },
        ],
        { unit: 'percentunit' },
      ),
      stat(
        'Loss (1 min)',
        [{ expr: 'link:probe_loss:ratio_1m{link=~"$link"}', instant: true, legend: '{{link}}' }],
        { unit: 'percentunit' },
      ),
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
    [labelVariable('link', 'Link', 'ispmon_link_sla_availability_target_ratio')],
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
      { unit: 's', w: 12, noValue: 'no incident acknowledged in 7 days' },
    ),
    stat(
      'Mean time to resolve (7 days)',
      [
        {
          rawSql:
            "SELECT avg(extract(epoch FROM resolved_at - starts_at)) AS value FROM incidents WHERE resolved_at IS NOT NULL AND starts_at > now() - interval '7 days'",
        },
      ],
      { unit: 's', w: 12, noValue: 'no incident resolved in 7 days' },
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
      { unit: 'short', thresholds: RED_FROM_ONE },
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
