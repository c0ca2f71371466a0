// The monitoring chain end to end with real parts: the RouterOS simulator → the exporter → Debian's
// Prometheus (with prometheus/prometheus.yml and the project's rules) → Debian's Alertmanager (with
// alertmanager/alertmanager.yml) → the real alert router (on PostgreSQL) and a recording webhook receiver.
// Intervals and `for:` durations are shortened for the test; expressions, routes and inhibitions are the
// shipped ones.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { pino } from 'pino';
import { startRuntime, type Runtime } from '@ispmon/alert-router';
import {
  canCreateProbeTargets,
  startProbeTargets,
  startSnmpLab,
  type SnmpLab,
  startRouterLab,
  writeInventory,
  type ProbeTargets,
  type RouterLab,
} from '@ispmon/lab';
import { Exporter } from '@ispmon/exporter';
import {
  startAlertmanager,
  startPostgres,
  startPrometheus,
  waitFor,
  type AlertmanagerServer,
  type PostgresServer,
  type PrometheusServer,
} from '@ispmon/testkit';
import { repoRoot } from '../support/paths.js';

interface WebhookAlert {
  status: string;
  labels: Record<string, string>;
}
interface Webhook {
  version: string;
  status: string;
  alerts: WebhookAlert[];
}

describe('monitoring stack: lab → exporter → Prometheus → Alertmanager', () => {
  let lab: RouterLab;
  let exporter: Exporter;
  let prom: PrometheusServer;
  let am: AlertmanagerServer;
  let receiver: Server;
  let billingStandIn: Server;
  let postgres: PostgresServer;
  let alertRouter: Runtime;
  let history: pg.Client;
  let probes: ProbeTargets | undefined;
  let snmpLab: SnmpLab;
  const withProbes = canCreateProbeTargets(); // network namespaces: root only (CI runs as root)
  const webhooks: Webhook[] = [];
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ispmon-stack-'));
    lab = await startRouterLab({
      routers: [
        { name: 'core-1', version: '7.12.1', interfaces: 4, pppSessions: 20 },
        { name: 'edge-2', version: '7.18.2', interfaces: 4, pppSessions: 5 },
      ],
    });
    writeInventory(join(dir, 'inventory'), lab, 'jkt');
    // An SNMP switch (the lab's generated 24-port switch, port 3 admin up / oper down) through the exporter.
    snmpLab = await startSnmpLab({ snmpd: false });
    const sw = snmpLab.endpoint('lab-switch');
    const snmpTargets = `  snmp:\n    - { name: sw-1, host: ${sw.host}, port: ${sw.port}, version: 2c, community: ${sw.community}, module: if_mib }\n`;
    writeFileSync(
      join(dir, 'inventory/file_sd/snmp.json'),
      JSON.stringify([{ targets: ['sw-1'], labels: { device: 'sw-1', site: 'jkt', module: 'if_mib' } }]),
    );
    // A client link measured by the exporter's probes, with its SLA commitment served the way billing
    // serves it (ispmon_link_sla_* gauges), so alerts compare with the link's own commitment.
    let probeTargets = '';
    if (withProbes) {
      // Namespaces are machine-wide: a per-process index keeps concurrent runs of this file apart.
      probes = await startProbeTargets({ count: 1, firstIndex: 221 + (process.pid % 30) });
      const link = probes.targets[0]!;
      probeTargets = `  probes:\n    - { name: L-0001, host: ${link.address}, protocol: icmp, interval: 250ms, timeout: 1s }\n`;
      writeFileSync(
        join(dir, 'inventory/file_sd/probes.json'),
        JSON.stringify([
          {
            targets: ['L-0001'],
            labels: { link: 'L-0001', customer: 'C-042', router: 'core-1', module: 'icmp' },
          },
        ]),
      );
    }
    billingStandIn = createServer((_req, res) => {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(
        '# HELP ispmon_link_sla_latency_target_seconds Committed latency.\n# TYPE ispmon_link_sla_latency_target_seconds gauge\nispmon_link_sla_latency_target_seconds{link="L-0001",customer="C-042"} 0.02\n' +
          '# HELP ispmon_link_sla_loss_target_ratio Committed loss.\n# TYPE ispmon_link_sla_loss_target_ratio gauge\nispmon_link_sla_loss_target_ratio{link="L-0001",customer="C-042"} 0.01\n' +
          '# HELP ispmon_link_sla_availability_target_ratio Committed availability.\n# TYPE ispmon_link_sla_availability_target_ratio gauge\nispmon_link_sla_availability_target_ratio{link="L-0001",customer="C-042"} 0.995\n',
      );
    });
    await new Promise<void>((r) => billingStandIn.listen(0, '127.0.0.1', r));
    const ba = billingStandIn.address();
    const billingAddress = `127.0.0.1:${typeof ba === 'object' && ba ? ba.port : 0}`;

    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        webhooks.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Webhook);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const ra = receiver.address();
    const receiverUrl = `http://127.0.0.1:${typeof ra === 'object' && ra ? ra.port : 0}/webhook/alertmanager`;

    // The real alert router (with its PostgreSQL) receives the same notifications as the recorder.
    postgres = await startPostgres();
    const databaseUrl = await postgres.createDatabase();
    alertRouter = await startRuntime({
      databaseUrl,
      port: 0,
      configText: '{}\n',
      logger: pino({ level: 'silent' }),
      pollMs: 0,
    });
    history = new pg.Client({ connectionString: databaseUrl });
    await history.connect();

    const amConfig = readFileSync(join(repoRoot, 'alertmanager/alertmanager.yml'), 'utf8')
      .replace('http://alert-router:8080/webhook/alertmanager', receiverUrl)
      .replace(
        'max_alerts: 0\n',
        `max_alerts: 0\n      - url: ${alertRouter.url}/webhook/alertmanager\n        send_resolved: true\n`,
      )
      .replace(/group_wait: \d+s/g, 'group_wait: 1s')
      .replace(/group_interval: \d+m/g, 'group_interval: 2s');
    am = await startAlertmanager({ config: amConfig });

    writeFileSync(
      join(dir, 'exporter.yml'),
      `listen: 127.0.0.1:0\ndefault_timeout: 1s\ntarget_files: ['${join(dir, 'inventory')}/exporter/*.yml']\ntargets:\n${snmpTargets}${probeTargets}`,
    );
    exporter = new Exporter({
      configFile: join(dir, 'exporter.yml'),
      logger: pino({ level: 'silent' }),
      targetFilePollMs: 200,
    });
    exporter.load();
    const exporterAddress = await exporter.listen();

    const files: Record<string, string> = {};
    for (const f of readdirSync(join(repoRoot, 'prometheus/rules'))) {
      files[`rules-${f}`] = readFileSync(join(repoRoot, 'prometheus/rules', f), 'utf8').replace(
        /for: \d+m/g,
        'for: 3s',
      );
    }
    const promConfig = readFileSync(join(repoRoot, 'prometheus/prometheus.yml'), 'utf8')
      .replaceAll('/var/lib/ispmon/inventory', join(dir, 'inventory'))
      .replaceAll('exporter:9436', exporterAddress)
      .replace("'alertmanager:9093'", `'127.0.0.1:${am.port}'`)
      .replace("'billing:8090'", `'${billingAddress}'`)
      .replace(/scrape_interval: \d+s/g, 'scrape_interval: 1s')
      .replace(/scrape_timeout: \d+s/g, 'scrape_timeout: 900ms')
      .replace(/evaluation_interval: \d+s/, 'evaluation_interval: 1s')
      .replace('- rules/*.yml', '- {{dir}}/rules-*.yml');
    prom = await startPrometheus({ config: promConfig, files });
  });

  afterAll(async () => {
    await prom?.stop();
    await am?.stop();
    await exporter?.close();
    await lab?.stop();
    await probes?.stop();
    await snmpLab?.stop();
    await history?.end();
    await alertRouter?.stop();
    await postgres?.stop();
    await new Promise((r) => receiver.close(r));
    await new Promise((r) => billingStandIn.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const firing = async (alertname: string): Promise<Array<Record<string, string>>> =>
    (
      await prom.api<{ alerts: Array<{ labels: Record<string, string>; state: string }> }>('/api/v1/alerts')
    ).alerts
      .filter((a) => a.labels.alertname === alertname && a.state === 'firing')
      .map((a) => a.labels);

  it('scrapes every router through the exporter with the router and site labels of the inventory', async () => {
    const up = await waitFor('both routers scraped', async () => {
      const r = await prom.query('mikrotik_up');
      return r.length === 2 ? r : undefined;
    });
    expect(up.map((s) => [s.metric.router, s.metric.site, s.metric.instance, s.value[1]]).sort()).toEqual([
      ['core-1', 'jkt', 'core-1', '1'],
      ['edge-2', 'jkt', 'edge-2', '1'],
    ]);
    const sessions = await prom.query('sum by (router) (mikrotik_ppp_active_sessions)');
    expect(Object.fromEntries(sessions.map((s) => [s.metric.router, s.value[1]]))).toEqual({
      'core-1': '20',
      'edge-2': '5',
    });
  });

  it('fires RouterDown when a router stops answering, delivers it through Alertmanager, and resolves it', async () => {
    await lab.router('edge-2').setUnresponsive('refuse');
    const alert = await waitFor(
      'RouterDown firing in Prometheus',
      async () => ((await firing('RouterDown')).length ? await firing('RouterDown') : undefined),
      { timeoutMs: 30_000 },
    );
    expect(alert).toEqual([
      expect.objectContaining({ router: 'edge-2', severity: 'critical', team: 'noc', site: 'jkt' }),
    ]);
    const amAlerts = await waitFor('RouterDown in Alertmanager', async () => {
      const list = await am.api<Array<{ labels: Record<string, string> }>>('/alerts');
      return list.some((a) => a.labels.alertname === 'RouterDown') ? list : undefined;
    });
    expect(amAlerts.find((a) => a.labels.alertname === 'RouterDown')?.labels.router).toBe('edge-2');
    const delivered = await waitFor(
      'webhook with RouterDown',
      async () =>
        webhooks.find(
          (w) => w.status === 'firing' && w.alerts.some((a) => a.labels.alertname === 'RouterDown'),
        ),
      { timeoutMs: 20_000 },
    );
    expect(delivered.version).toBe('4');

    await lab.router('edge-2').setUnresponsive(false);
    const resolved = await waitFor(
      'resolved webhook for RouterDown',
      async () =>
        webhooks.find((w) =>
          w.alerts.some((a) => a.labels.alertname === 'RouterDown' && a.status === 'resolved'),
        ),
      { timeoutMs: 30_000 },
    );
    expect(resolved.alerts.find((a) => a.labels.alertname === 'RouterDown')?.labels.router).toBe('edge-2');
    // …and the alert router kept it as an incident, resolved, for the alert history dashboard.
    const incident = await waitFor('RouterDown incident resolved in the alert router', async () => {
      const rows = (
        await history.query<{ status: string; router: string; severity: string }>(
          "SELECT status, severity, labels->>'router' AS router FROM incidents WHERE alertname = 'RouterDown'",
        )
      ).rows;
      return rows.length === 1 && rows[0]?.status === 'resolved' ? rows : undefined;
    });
    expect(incident).toEqual([{ status: 'resolved', severity: 'critical', router: 'edge-2' }]);
  });

  it('fires RouterInterfaceDown for the interface that lost its link, and clears when it returns', async () => {
    lab.router('core-1').setInterfaceRunning('sfp-sfpplus2', false);
    const alert = await waitFor(
      'RouterInterfaceDown',
      async () =>
        (await firing('RouterInterfaceDown')).length ? await firing('RouterInterfaceDown') : undefined,
      { timeoutMs: 30_000 },
    );
    expect(alert).toEqual([
      expect.objectContaining({ router: 'core-1', interface: 'sfp-sfpplus2', severity: 'warning' }),
    ]);
    lab.router('core-1').setInterfaceRunning('sfp-sfpplus2', true);
    await waitFor(
      'RouterInterfaceDown cleared',
      async () => ((await firing('RouterInterfaceDown')).length === 0 ? true : undefined),
      { timeoutMs: 30_000 },
    );
  });

  (withProbes ? it : it.skip)(
    'records link availability and latency, and alerts when latency passes the link commitment and when the link goes down',
    async () => {
      const link = probes!.targets[0]!;
      const avail = await waitFor(
        'link availability recorded',
        async () => {
          const r = await prom.query('link:probe_availability:ratio_1m{link="L-0001"}');
          return r[0]?.value[1] === '1' ? r : undefined;
        },
        { timeoutMs: 30_000 },
      );
      expect(avail[0]?.metric).toMatchObject({ link: 'L-0001', customer: 'C-042', router: 'core-1' });
      link.setLatency(60);
      const latency = await waitFor(
        'LinkLatencyAboveCommitment firing',
        async () =>
          (await firing('LinkLatencyAboveCommitment')).length
            ? await firing('LinkLatencyAboveCommitment')
            : undefined,
        { timeoutMs: 60_000 },
      );
      expect(latency).toEqual([
        expect.objectContaining({ link: 'L-0001', customer: 'C-042', severity: 'warning' }),
      ]);
      const mean = Number((await prom.query('link:probe_rtt_seconds:mean_1m{link="L-0001"}'))[0]?.value[1]);
      expect(mean).toBeGreaterThan(0.02);
      link.setLatency(1);
      link.setDown(true);
      const down = await waitFor(
        'LinkDown firing',
        async () => ((await firing('LinkDown')).length ? await firing('LinkDown') : undefined),
        { timeoutMs: 150_000 },
      );
      expect(down).toEqual([expect.objectContaining({ link: 'L-0001', severity: 'critical' })]);
      link.setDown(false);
      await waitFor(
        'LinkDown cleared after recovery',
        async () => ((await firing('LinkDown')).length === 0 ? true : undefined),
        { timeoutMs: 30_000 },
      );
      await waitFor(
        'latency recorded again after recovery',
        async () =>
          (await prom.query('link:probe_rtt_seconds:mean_1m{link="L-0001"}')).length ? true : undefined,
        { timeoutMs: 30_000 },
      );
    },
    300_000,
  );

  it('scrapes the SNMP switch through the exporter and fires SnmpInterfaceDown for its admin-up, oper-down port', async () => {
    const up = await waitFor('SNMP switch scraped', async () => {
      const r = await prom.query('snmp_up{device="sw-1"}');
      return r[0]?.value[1] === '1' ? r : undefined;
    });
    expect(up[0]?.metric).toMatchObject({ job: 'snmp', instance: 'sw-1', site: 'jkt' });
    const octets = await prom.query('ifHCInOctets{device="sw-1",ifIndex="1"}');
    expect(octets[0]?.value[1]).toBe('9007199254740992'); // 2^53+1 stored as float64, as Prometheus does
    const alert = await waitFor(
      'SnmpInterfaceDown firing',
      async () =>
        (await firing('SnmpInterfaceDown')).length ? await firing('SnmpInterfaceDown') : undefined,
      { timeoutMs: 30_000 },
    );
    expect(alert).toEqual([
      expect.objectContaining({ device: 'sw-1', ifIndex: '3', ifName: 'Te1/0/3', severity: 'warning' }),
    ]);
  });

  it('inhibits interface and link alerts of a router that is down, and only of that router', async () => {
    const base = { severity: 'warning', team: 'noc', site: 'jkt' };
    await am.postAlerts([
      { labels: { alertname: 'RouterDown', router: 'r-inhibit', severity: 'critical', team: 'noc' } },
      { labels: { alertname: 'RouterInterfaceDown', router: 'r-inhibit', interface: 'ether1', ...base } },
      {
        labels: {
          alertname: 'LinkDown',
          router: 'r-inhibit',
          link: 'L-9',
          severity: 'critical',
          team: 'noc',
        },
      },
      { labels: { alertname: 'RouterInterfaceDown', router: 'r-other', interface: 'ether1', ...base } },
    ]);
    const states = await waitFor('inhibition applied', async () => {
      const list =
        await am.api<
          Array<{ labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } }>
        >('/alerts');
      const mine = list.filter((a) => a.labels.router === 'r-inhibit' || a.labels.router === 'r-other');
      return mine.length === 4 && mine.some((a) => a.status.state === 'suppressed') ? mine : undefined;
    });
    const state = (name: string, router: string): string | undefined =>
      states.find((a) => a.labels.alertname === name && a.labels.router === router)?.status.state;
    expect(state('RouterDown', 'r-inhibit')).toBe('active');
    expect(state('RouterInterfaceDown', 'r-inhibit')).toBe('suppressed');
    expect(state('LinkDown', 'r-inhibit')).toBe('suppressed');
    expect(state('RouterInterfaceDown', 'r-other')).toBe('active');
  });

  it('evaluates every PromQL query of every dashboard without error, with data for the RouterOS, SNMP and link panels', async () => {
    const dashboardsDir = join(repoRoot, 'grafana/dashboards');
    const failures: string[] = [];
    const empty: string[] = [];
    for (const file of readdirSync(dashboardsDir)) {
      const d = JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as {
        panels: Array<{ title: string; targets: Array<{ expr?: string }> }>;
      };
      for (const p of d.panels) {
        for (const t of p.targets) {
          if (!t.expr) continue;
          const expr = t.expr.replace(/\$__rate_interval/g, '1m').replace(/=~"\$\w+"/g, '=~".*"');
          try {
            const result = await prom.query(expr);
            // Panels over RouterOS data must show something: the lab provides it.
            const routerOsOnly =
              /mikrotik_|router:mikrotik|router_interface:/.test(expr) &&
              !/snmp|if[A-Z]|probe_|link:|ispmon_billing/.test(expr);
            const needsRate = /rate5m|rate\(|increase\(/.test(expr);
            // …and so must the client-link SLA panels when the probe targets run.
            const linkPanel = withProbes && /link:|ispmon_link_sla/.test(expr);
            // …and the SNMP device panels: the lab's switch is scraped through the exporter.
            const snmpPanel = /snmp_up|ifOperStatus|ifHighSpeed/.test(expr);
            if (
              (routerOsOnly || linkPanel || snmpPanel) &&
              !needsRate &&
              !/== 0/.test(expr) &&
              result.length === 0
            )
              empty.push(`${file} / ${p.title}: ${expr}`);
          } catch (err) {
            failures.push(`${file} / ${p.title}: ${(err as Error).message}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(empty).toEqual([]);
  });
});
