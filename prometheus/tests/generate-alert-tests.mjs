// Writes alerts.test.yml for `promtool test rules` from the cases below. Expected annotations are
// rendered from alerts.yml's templates for the labels and value each case expects (only the template
// functions ispmon uses: $labels.x, $value, humanizePercentage, humanizeDuration, printf "%.1f"), so the
// tests pin the annotation text too; promtool renders with Go's templates and compares. Expected labels
// are written in each case, severity and team included, never taken from the rule under test: a rule
// whose severity or team changes must fail its test.
// Usage: node prometheus/tests/generate-alert-tests.mjs
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const rulesDir = join(here, '..', 'rules');
const byName = new Map(
  readdirSync(rulesDir)
    .filter((f) => f.endsWith('.yml'))
    .flatMap((f) => parse(readFileSync(join(rulesDir, f), 'utf8')).groups.flatMap((g) => g.rules))
    .filter((r) => r.alert)
    .map((r) => [r.alert, r]),
);

function humanizePercentage(v) {
  return `${trim(v * 100)}%`;
}
function trim(n) {
  // Go's humanize uses %.4g
  return Number(n.toPrecision(4)).toString();
}
function humanizeDuration(v) {
  if (v >= 1) return `${trim(v)}s`;
  if (v >= 1e-3) return `${trim(v * 1e3)}ms`;
  return `${trim(v * 1e6)}us`;
}
function render(template, labels, value) {
  return template.replace(/\{\{\s*(.+?)\s*\}\}/g, (_m, expr) => {
    const [head, ...pipes] = expr.split('|').map((s) => s.trim());
    let out =
      head === '$value' ? value : head.startsWith('$labels.') ? (labels[head.slice(8)] ?? '') : undefined;
    if (out === undefined) throw new Error(`unsupported template ${expr}`);
    for (const p of pipes) {
      if (p === 'humanizePercentage') out = humanizePercentage(out);
      else if (p === 'humanizeDuration') out = humanizeDuration(out);
      else if (p === 'printf "%.1f"') out = Number(out).toFixed(1);
      else throw new Error(`unsupported pipe ${p}`);
    }
    return typeof out === 'number' ? String(out) : out;
  });
}

function expected(alert, labels, value) {
  const rule = byName.get(alert);
  if (!rule) throw new Error(`no alert ${alert}`);
  const annotations = Object.fromEntries(
    Object.entries(rule.annotations).map(([k, t]) => [k, render(t, labels, value)]),
  );
  if (!labels.severity || !labels.team)
    throw new Error(`${alert}: write the expected severity and team in the case (not taken from the rule)`);
  return { exp_labels: labels, exp_annotations: annotations };
}

// Expected routing labels, stated here independently of the rules.
const NOC_CRITICAL = { severity: 'critical', team: 'noc' };
const NOC_WARNING = { severity: 'warning', team: 'noc' };
const PLATFORM_CRITICAL = { severity: 'critical', team: 'platform' };
const PLATFORM_WARNING = { severity: 'warning', team: 'platform' };

const R = 'job="routeros",instance="core-1",router="core-1",site="jkt"';
const Rl = { job: 'routeros', instance: 'core-1', router: 'core-1', site: 'jkt' };
const S = 'job="snmp",instance="sw-1",device="sw-1",site="jkt"';
const Sl = { job: 'snmp', instance: 'sw-1', device: 'sw-1', site: 'jkt' };
const L = 'job="probes",instance="L-0001",link="L-0001",customer="C-042",router="core-1"';
const Ll = { link: 'L-0001', customer: 'C-042', router: 'core-1' };
const SLA = 'job="billing",instance="billing:8090",link="L-0001",customer="C-042"';

// Each case: series, then [eval_time, alertname, [ [labels, value], ... ]] checks; an empty list = quiet.
const cases = [
  {
    name: 'RouterDown fires after 2 minutes of mikrotik_up 0, not before, and clears',
    series: [[`mikrotik_up{${R}}`, '1 1 0 0 0 0 1 1']],
    checks: [
      ['1m', 'RouterDown', []],
      ['3m', 'RouterDown', []],
      ['4m', 'RouterDown', [[{ ...Rl, ...NOC_CRITICAL }, 0]]],
      ['7m', 'RouterDown', []],
    ],
  },
  {
    name: 'SnmpDeviceDown',
    series: [[`snmp_up{${S}}`, '0x5']],
    checks: [
      ['1m', 'SnmpDeviceDown', []],
      ['3m', 'SnmpDeviceDown', [[{ ...Sl, ...NOC_CRITICAL }, 0]]],
    ],
  },
  {
    name: 'RouterInterfaceDown only for enabled interfaces',
    series: [
      [`mikrotik_interface_running{${R},interface="ether1"}`, '0x5'],
      [`mikrotik_interface_disabled{${R},interface="ether1"}`, '0x5'],
      [`mikrotik_interface_running{${R},interface="ether2"}`, '0x5'],
      [`mikrotik_interface_disabled{${R},interface="ether2"}`, '1x5'],
    ],
    checks: [
      ['1m', 'RouterInterfaceDown', []],
      ['3m', 'RouterInterfaceDown', [[{ ...Rl, interface: 'ether1', ...NOC_WARNING }, 0]]],
    ],
  },
  {
    name: 'SnmpInterfaceDown only when admin up',
    series: [
      [`ifOperStatus{${S},ifIndex="1",ifName="Gi0/1",ifAlias="uplink"}`, '2x5'],
      [`ifAdminStatus{${S},ifIndex="1",ifName="Gi0/1",ifAlias="uplink"}`, '1x5'],
      [`ifOperStatus{${S},ifIndex="2",ifName="Gi0/2",ifAlias="spare"}`, '2x5'],
      [`ifAdminStatus{${S},ifIndex="2",ifName="Gi0/2",ifAlias="spare"}`, '2x5'],
    ],
    checks: [
      ['1m', 'SnmpInterfaceDown', []],
      [
        '3m',
        'SnmpInterfaceDown',
        [[{ ...Sl, ifIndex: '1', ifName: 'Gi0/1', ifAlias: 'uplink', ...NOC_WARNING }, 2]],
      ],
    ],
  },
  {
    name: 'RouterInterfaceErrors above 1/s for 10 minutes',
    series: [
      [`mikrotik_interface_receive_errors_total{${R},interface="ether1"}`, '0+120x20'],
      [`mikrotik_interface_transmit_errors_total{${R},interface="ether1"}`, '0x20'],
      [`mikrotik_interface_receive_drops_total{${R},interface="ether1"}`, '0+60x20'],
      [`mikrotik_interface_transmit_drops_total{${R},interface="ether1"}`, '0x20'],
      [`mikrotik_interface_receive_errors_total{${R},interface="ether2"}`, '0+6x20'],
      [`mikrotik_interface_transmit_errors_total{${R},interface="ether2"}`, '0x20'],
      [`mikrotik_interface_receive_drops_total{${R},interface="ether2"}`, '0x20'],
      [`mikrotik_interface_transmit_drops_total{${R},interface="ether2"}`, '0x20'],
    ],
    checks: [
      ['10m', 'RouterInterfaceErrors', []],
      ['16m', 'RouterInterfaceErrors', [[{ ...Rl, interface: 'ether1', ...NOC_WARNING }, 3]]],
    ],
  },
  {
    name: 'SnmpInterfaceErrors',
    series: [
      [`ifInErrors{${S},ifIndex="1",ifName="Gi0/1"}`, '0+300x20'],
      [`ifOutErrors{${S},ifIndex="1",ifName="Gi0/1"}`, '0x20'],
      [`ifInDiscards{${S},ifIndex="1",ifName="Gi0/1"}`, '0x20'],
      [`ifOutDiscards{${S},ifIndex="1",ifName="Gi0/1"}`, '0x20'],
      // 0.5 errors/s: below the threshold of 1/s, never alerts.
      [`ifInErrors{${S},ifIndex="2",ifName="Gi0/2"}`, '0+30x20'],
      [`ifOutErrors{${S},ifIndex="2",ifName="Gi0/2"}`, '0x20'],
      [`ifInDiscards{${S},ifIndex="2",ifName="Gi0/2"}`, '0x20'],
      [`ifOutDiscards{${S},ifIndex="2",ifName="Gi0/2"}`, '0x20'],
    ],
    checks: [
      ['8m', 'SnmpInterfaceErrors', []],
      ['16m', 'SnmpInterfaceErrors', [[{ ...Sl, ifIndex: '1', ifName: 'Gi0/1', ...NOC_WARNING }, 5]]],
    ],
  },
  {
    name: 'RouterHighCpu above the threshold for 10 minutes',
    series: [
      [`mikrotik_system_cpu_load_ratio{${R}}`, '0.95x15'],
      [
        `mikrotik_system_cpu_load_ratio{job="routeros",instance="core-2",router="core-2",site="jkt"}`,
        '0.5x15',
      ],
    ],
    checks: [
      ['5m', 'RouterHighCpu', []],
      ['11m', 'RouterHighCpu', [[{ ...Rl, ...NOC_WARNING }, 0.95]]],
    ],
  },
  {
    name: 'RouterHighMemory',
    series: [
      [`mikrotik_system_memory_free_bytes{${R}}`, '200x15'],
      [`mikrotik_system_memory_total_bytes{${R}}`, '4000x15'],
      [
        `mikrotik_system_memory_free_bytes{job="routeros",instance="core-2",router="core-2",site="jkt"}`,
        '2000x15',
      ],
      [
        `mikrotik_system_memory_total_bytes{job="routeros",instance="core-2",router="core-2",site="jkt"}`,
        '4000x15',
      ],
    ],
    checks: [
      ['5m', 'RouterHighMemory', []],
      ['11m', 'RouterHighMemory', [[{ ...Rl, ...NOC_WARNING }, 0.95]]],
    ],
  },
  {
    name: 'RouterHighTemperature',
    series: [
      [`mikrotik_health_temperature_celsius{${R},sensor="cpu-temperature"}`, '80x10'],
      [`mikrotik_health_temperature_celsius{${R},sensor="temperature"}`, '45x10'],
    ],
    checks: [
      ['3m', 'RouterHighTemperature', []],
      ['6m', 'RouterHighTemperature', [[{ ...Rl, sensor: 'cpu-temperature', ...NOC_WARNING }, 80]]],
    ],
  },
  {
    name: 'RouterPowerSupplyFailed when a PSU state leaves ok for 2 minutes',
    series: [
      [`mikrotik_health_state{${R},sensor="psu1-state",state="ok"}`, '1x10'],
      [`mikrotik_health_state{${R},sensor="psu1-state",state="fail"}`, '0x10'],
      [`mikrotik_health_state{${R},sensor="psu2-state",state="ok"}`, '1 1 0x8'],
      [`mikrotik_health_state{${R},sensor="psu2-state",state="fail"}`, '0 0 1x8'],
      [`mikrotik_health_state{${R},sensor="fan1-state",state="ok"}`, '1x10'],
    ],
    checks: [
      ['3m', 'RouterPowerSupplyFailed', []],
      ['5m', 'RouterPowerSupplyFailed', [[{ ...Rl, sensor: 'psu2-state', state: 'ok', ...NOC_CRITICAL }, 0]]],
      ['5m', 'RouterFanFailed', []],
    ],
  },
  {
    name: 'RouterFanFailed when a fan state leaves ok for 5 minutes',
    series: [
      [`mikrotik_health_state{${R},sensor="fan1-state",state="ok"}`, '0x10'],
      [`mikrotik_health_state{${R},sensor="fan1-state",state="fail"}`, '1x10'],
      [`mikrotik_health_state{${R},sensor="fan2-state",state="ok"}`, '1x10'],
    ],
    checks: [
      ['4m', 'RouterFanFailed', []],
      ['6m', 'RouterFanFailed', [[{ ...Rl, sensor: 'fan1-state', state: 'ok', ...NOC_WARNING }, 0]]],
    ],
  },
  {
    name: 'RouterInterfaceSaturated over 90% of link speed for 15 minutes',
    series: [
      [`mikrotik_interface_receive_bytes_total{${R},interface="sfp1"}`, '0+7125000000x30'],
      [`mikrotik_interface_transmit_bytes_total{${R},interface="sfp1"}`, '0+100000x30'],
      [`mikrotik_interface_speed_bytes{${R},interface="sfp1"}`, '125000000x30'],
      [`mikrotik_interface_receive_bytes_total{${R},interface="sfp2"}`, '0+60000x30'],
      [`mikrotik_interface_transmit_bytes_total{${R},interface="sfp2"}`, '0+60000x30'],
      [`mikrotik_interface_speed_bytes{${R},interface="sfp2"}`, '125000000x30'],
    ],
    checks: [
      ['10m', 'RouterInterfaceSaturated', []],
      ['25m', 'RouterInterfaceSaturated', [[{ ...Rl, interface: 'sfp1', ...NOC_WARNING }, 0.95]]],
    ],
  },
  {
    name: 'SnmpInterfaceSaturated',
    series: [
      [`ifHCInOctets{${S},ifIndex="1",ifName="Te1/1"}`, '0+7125000000x30'],
      [`ifHCOutOctets{${S},ifIndex="1",ifName="Te1/1"}`, '0x30'],
      [`ifHighSpeed{${S},ifIndex="1",ifName="Te1/1"}`, '1000x30'],
      // 50% of 1 Gbit/s: below the threshold.
      [`ifHCInOctets{${S},ifIndex="2",ifName="Te1/2"}`, '0+3750000000x30'],
      [`ifHCOutOctets{${S},ifIndex="2",ifName="Te1/2"}`, '0x30'],
      [`ifHighSpeed{${S},ifIndex="2",ifName="Te1/2"}`, '1000x30'],
    ],
    checks: [
      ['10m', 'SnmpInterfaceSaturated', []],
      ['25m', 'SnmpInterfaceSaturated', [[{ ...Sl, ifIndex: '1', ifName: 'Te1/1', ...NOC_WARNING }, 0.95]]],
    ],
  },
  {
    name: 'PppMassDisconnect on a sharp drop, quiet on a small one',
    series: [
      [`mikrotik_ppp_active_sessions{${R},service="pppoe",profile="home-10M"}`, '100x10 10x5'],
      [
        `mikrotik_ppp_active_sessions{job="routeros",instance="core-2",router="core-2",site="jkt",service="pppoe",profile="home-10M"}`,
        '30x10 20x5',
      ],
    ],
    checks: [
      ['9m', 'PppMassDisconnect', []],
      ['12m', 'PppMassDisconnect', [[{ ...Rl, ...NOC_CRITICAL }, 10]]],
    ],
  },
  {
    name: 'PppMassDisconnect when every session of a router drops (100 → 0)',
    series: [[`mikrotik_ppp_active_sessions{${R},service="pppoe",profile="home-10M"}`, '100x10 0x5']],
    checks: [
      ['9m', 'PppMassDisconnect', []],
      ['12m', 'PppMassDisconnect', [[{ ...Rl, ...NOC_CRITICAL }, 0]]],
    ],
  },
  {
    name: 'PppMassDisconnect when the session samples vanish from a router that still answers, not from one that went down',
    series: [
      [`mikrotik_ppp_active_sessions{${R},service="pppoe",profile="home-10M"}`, '100x10 stale'],
      [`mikrotik_scrape_collector_success{${R},collector="ppp_active"}`, '1x15'],
      [
        `mikrotik_ppp_active_sessions{job="routeros",instance="core-2",router="core-2",site="jkt",service="pppoe",profile="home-10M"}`,
        '100x10 stale',
      ],
      [
        `mikrotik_scrape_collector_success{job="routeros",instance="core-2",router="core-2",site="jkt",collector="ppp_active"}`,
        '1x10 0x5',
      ],
    ],
    checks: [
      ['9m', 'PppMassDisconnect', []],
      ['12m', 'PppMassDisconnect', [[{ ...Rl, ...NOC_CRITICAL }, 0]]],
    ],
  },
  {
    name: 'RouterNotReporting after 5 minutes of failed scrapes while the exporter is up',
    series: [
      [`up{${R}}`, '1 0x10'],
      ['up{job="ispmon-exporter",instance="exporter:9436"}', '1x10'],
    ],
    checks: [
      ['4m', 'RouterNotReporting', []],
      ['7m', 'RouterNotReporting', [[{ ...Rl, ...PLATFORM_WARNING }, 0]]],
    ],
  },
  {
    name: 'RouterNotReporting stays quiet when the whole exporter is down (IspmonComponentDown says it)',
    series: [
      [`up{${R}}`, '0x10'],
      ['up{job="ispmon-exporter",instance="exporter:9436"}', '0x10'],
    ],
    checks: [['8m', 'RouterNotReporting', []]],
  },
  {
    name: 'SnmpDeviceNotReporting for the device that cannot be scraped',
    series: [
      [`up{${S}}`, '0x10'],
      ['up{job="snmp",instance="sw-2",device="sw-2",site="jkt"}', '1x10'],
    ],
    checks: [
      ['3m', 'SnmpDeviceNotReporting', []],
      ['6m', 'SnmpDeviceNotReporting', [[{ ...Sl, ...PLATFORM_WARNING }, 0]]],
    ],
  },
  {
    name: 'LinkProbeNotReporting when the exporter does not serve the link probe',
    series: [[`up{${L}}`, '0x10']],
    checks: [
      ['3m', 'LinkProbeNotReporting', []],
      [
        '6m',
        'LinkProbeNotReporting',
        [[{ job: 'probes', instance: 'L-0001', ...Ll, ...PLATFORM_WARNING }, 0]],
      ],
    ],
  },
  {
    name: 'LinkProbeStalled when a probe stops sending, not while it sends',
    series: [
      [`probe_packets_sent_total{${L}}`, '0+4x5 20x15'],
      [
        'probe_packets_sent_total{job="probes",instance="L-0002",link="L-0002",customer="C-042",router="core-1"}',
        '0+4x20',
      ],
    ],
    checks: [
      ['12m', 'LinkProbeStalled', []],
      ['16m', 'LinkProbeStalled', [[{ job: 'probes', instance: 'L-0001', ...Ll, ...PLATFORM_WARNING }, 0]]],
    ],
  },
  {
    name: 'MonitoredTargetsVanished when every target of a job leaves discovery, for the hour up remembers',
    series: [
      [`up{${R}}`, '1x5 stale'],
      [`up{${S}}`, '1x5 stale'],
      ['up{job="snmp",instance="sw-2",device="sw-2",site="jkt"}', '1x80'],
    ],
    checks: [
      ['4m', 'MonitoredTargetsVanished', []],
      ['9m', 'MonitoredTargetsVanished', [[{ job: 'routeros', ...PLATFORM_CRITICAL }, 1]]],
      ['70m', 'MonitoredTargetsVanished', []],
    ],
  },
  {
    name: 'IspmonComponentAbsent for a component job without any target',
    series: [
      ['up{job="ispmon-exporter",instance="exporter:9436"}', '1x10'],
      ['up{job="alert-router",instance="alert-router:8080"}', '1x10'],
    ],
    checks: [
      ['3m', 'IspmonComponentAbsent', []],
      ['6m', 'IspmonComponentAbsent', [[{ job: 'billing', ...PLATFORM_CRITICAL }, 1]]],
    ],
  },
  {
    name: 'IspmonComponentAbsent quiet while every component is scraped',
    series: [
      ['up{job="ispmon-exporter",instance="exporter:9436"}', '1x10'],
      ['up{job="alert-router",instance="alert-router:8080"}', '1x10'],
      ['up{job="billing",instance="billing:8090"}', '0x10'],
    ],
    checks: [['10m', 'IspmonComponentAbsent', []]],
  },
  {
    name: 'LinkDown after 3 minutes without replies',
    series: [
      [`probe_packets_received_total{${L}}`, '0+60x5 300x10'],
      [`probe_packets_sent_total{${L}}`, '0+60x15'],
    ],
    checks: [
      ['5m', 'LinkDown', []],
      ['10m', 'LinkDown', [[{ ...Ll, ...NOC_CRITICAL }, 0]]],
    ],
  },
  {
    name: 'LinkLatencyAboveCommitment uses the link own commitment',
    series: [
      [`probe_rtt_seconds_sum{${L}}`, '0+3x20'],
      [`probe_rtt_seconds_count{${L}}`, '0+60x20'],
      [`ispmon_link_sla_latency_target_seconds{${SLA}}`, '0.02x20'],
      [
        `probe_rtt_seconds_sum{job="probes",instance="L-0002",link="L-0002",customer="C-042",router="core-1"}`,
        '0+3x20',
      ],
      [
        `probe_rtt_seconds_count{job="probes",instance="L-0002",link="L-0002",customer="C-042",router="core-1"}`,
        '0+60x20',
      ],
      [
        `ispmon_link_sla_latency_target_seconds{job="billing",instance="billing:8090",link="L-0002",customer="C-042"}`,
        '0.1x20',
      ],
    ],
    checks: [
      ['5m', 'LinkLatencyAboveCommitment', []],
      ['15m', 'LinkLatencyAboveCommitment', [[{ ...Ll, ...NOC_WARNING }, 0.05]]],
    ],
  },
  {
    name: 'LinkLossAboveCommitment',
    series: [
      [`probe_packets_received_total{${L}}`, '0+54x20'],
      [`probe_packets_sent_total{${L}}`, '0+60x20'],
      [`ispmon_link_sla_loss_target_ratio{${SLA}}`, '0.01x20'],
      // L-0002 loses 10% too, but is sold with a 20% loss commitment.
      [
        `probe_packets_received_total{job="probes",instance="L-0002",link="L-0002",customer="C-042",router="core-1"}`,
        '0+54x20',
      ],
      [
        `probe_packets_sent_total{job="probes",instance="L-0002",link="L-0002",customer="C-042",router="core-1"}`,
        '0+60x20',
      ],
      [
        `ispmon_link_sla_loss_target_ratio{job="billing",instance="billing:8090",link="L-0002",customer="C-042"}`,
        '0.2x20',
      ],
    ],
    checks: [
      ['5m', 'LinkLossAboveCommitment', []],
      ['15m', 'LinkLossAboveCommitment', [[{ ...Ll, ...NOC_WARNING }, 0.1]]],
    ],
  },
  {
    name: 'LinkErrorBudgetBurnFast when the last hour and 5 minutes are both bad',
    series: [
      [`probe_packets_received_total{${L}}`, '0+60x30 1800x40'],
      [`probe_packets_sent_total{${L}}`, '0+60x70'],
      [`ispmon_link_sla_availability_target_ratio{${SLA}}`, '0.995x70'],
    ],
    checks: [
      ['20m', 'LinkErrorBudgetBurnFast', []],
      ['60m', 'LinkErrorBudgetBurnFast', [[{ ...Ll, ...NOC_CRITICAL }, 0.48333333333333334]]],
    ],
  },
  {
    name: 'LinkErrorBudgetBurnSlow',
    series: [
      [`probe_packets_received_total{${L}}`, '0+60x100 6000x100'],
      [`probe_packets_sent_total{${L}}`, '0+60x200'],
      [`ispmon_link_sla_availability_target_ratio{${SLA}}`, '0.995x200'],
    ],
    checks: [
      ['60m', 'LinkErrorBudgetBurnSlow', []],
      ['180m', 'LinkErrorBudgetBurnSlow', [[{ ...Ll, ...NOC_WARNING }, 0.4444444444444444]]],
    ],
  },
  {
    name: 'IspmonComponentDown',
    series: [
      ['up{job="alert-router",instance="alert-router:8080"}', '0x5'],
      ['up{job="routeros",instance="core-1"}', '0x5'],
    ],
    checks: [
      ['1m', 'IspmonComponentDown', []],
      [
        '3m',
        'IspmonComponentDown',
        [[{ job: 'alert-router', instance: 'alert-router:8080', ...PLATFORM_CRITICAL }, 0]],
      ],
    ],
  },
  {
    name: 'PrometheusRuleFailures',
    series: [
      ['prometheus_rule_evaluation_failures_total{rule_group="rules/alerts.yml;ispmon-links"}', '0 0 1 2 3'],
    ],
    checks: [
      ['1m', 'PrometheusRuleFailures', []],
      [
        '4m',
        'PrometheusRuleFailures',
        [[{ rule_group: 'rules/alerts.yml;ispmon-links', ...PLATFORM_CRITICAL }, 2.5]],
      ],
    ],
  },
  {
    name: 'PrometheusNotificationsFailing',
    series: [
      [
        'prometheus_notifications_errors_total{alertmanager="http://alertmanager:9093/api/v2/alerts"}',
        '0 0 5 10 15',
      ],
    ],
    checks: [
      ['1m', 'PrometheusNotificationsFailing', []],
      [
        '4m',
        'PrometheusNotificationsFailing',
        [[{ alertmanager: 'http://alertmanager:9093/api/v2/alerts', ...PLATFORM_CRITICAL }, 12.5]],
      ],
    ],
  },
  {
    name: 'AlertmanagerNotificationsFailing',
    series: [['alertmanager_notifications_failed_total{integration="webhook"}', '0 0 1 1 1']],
    checks: [
      ['1m', 'AlertmanagerNotificationsFailing', []],
      ['3m', 'AlertmanagerNotificationsFailing', [[{ integration: 'webhook', ...PLATFORM_CRITICAL }, 1.25]]],
    ],
  },
];

const tests = cases.map((c) => ({
  name: c.name,
  interval: '1m',
  input_series: c.series.map(([series, values]) => ({ series, values })),
  alert_rule_test: c.checks.map(([eval_time, alertname, alerts]) => ({
    eval_time,
    alertname,
    exp_alerts: alerts.map(([labels, value]) => expected(alertname, labels, value)),
  })),
}));

const covered = new Set(cases.flatMap((c) => c.checks.filter((k) => k[2].length > 0).map((k) => k[1])));
const missing = [...byName.keys()].filter((a) => !covered.has(a));
if (missing.length) throw new Error(`alerts without a firing test: ${missing.join(', ')}`);
const quiet = new Set(cases.flatMap((c) => c.checks.filter((k) => k[2].length === 0).map((k) => k[1])));
const neverQuiet = [...byName.keys()].filter((a) => !quiet.has(a));
if (neverQuiet.length) throw new Error(`alerts without a quiet test: ${neverQuiet.join(', ')}`);

writeFileSync(
  // Optional output file (tests compare a fresh generation without rewriting the committed file).
  process.argv[2] ?? join(here, 'alerts.test.yml'),
  `# Generated by generate-alert-tests.mjs — edit the cases there, then run it.\n${stringify({ rule_files: ['../rules/*.yml'], evaluation_interval: '1m', tests }, { lineWidth: 0 })}`,
);
console.log(`wrote ${tests.length} tests covering ${covered.size} alerts`);
