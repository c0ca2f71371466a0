// The monitoring chain end to end with real parts: the RouterOS simulator → the exporter → Debian's
// Prometheus (with prometheus/prometheus.yml and the project's rules) → Debian's Alertmanager (with
// alertmanager/alertmanager.yml) → the real alert router (on PostgreSQL) and a recording webhook receiver;
// the real billing process (`node billing/dist/main.js`, on PostgreSQL) owns the inventory (routers and the
// client link are registered through its API, its files bring them to the exporter and Prometheus) and
// serves the SLA commitments the link alerts compare with. Intervals and `for:` durations are shortened for
// the test; expressions, routes and inhibitions are the shipped ones.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { startRuntime, type Runtime } from '@ispmon/alert-router';
import {
  canCreateProbeTargets,
  startProbeTargets,
  startSnmpLab,
  type SnmpLab,
  startRouterLab,
  type ProbeTargets,
  type RouterLab,
} from '@ispmon/lab';
import { componentFiles, renderAlertmanagerConfig, renderPrometheusConfig } from '@ispmon/demo';
import { Exporter } from '@ispmon/exporter';
import {
  freePort,
  httpOk,
  startAlertmanager,
  startPostgres,
  startPrometheus,
  waitFor,
  type AlertmanagerServer,
  type PostgresServer,
  type PrometheusServer,
} from '@ispmon/testkit';
import {
  evaluateDashboards as evaluateSharedDashboards,
  type DashboardEvaluation,
} from '../support/dashboards.js';
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
// Client-link probes need network namespaces (root). CI runs as root and must run them; a local run
// without them says what it leaves out.
const withProbes = canCreateProbeTargets();
const probesRequired = process.env.CI === 'true';
if (!withProbes && !probesRequired)
  console.warn(
    'stack.test.ts: no network namespaces (run as root for `ip netns`): the client-link probe case and the link panels are left out of this run',
  );
const BILLING_TOKEN = 'isb_stack-test-admin-token';

describe('monitoring stack: lab → exporter → Prometheus → Alertmanager, with billing', () => {
  let lab: RouterLab;
  let exporter: Exporter;
  let prom: PrometheusServer;
  let am: AlertmanagerServer;
  let receiver: Server;
  let postgres: PostgresServer;
  let alertRouter: Runtime;
  let billing: ChildProcess | undefined;
  let billingExit: Promise<number | null> | undefined;
  let billingOutput = '';
  let billingUrl = '';
  let history: pg.Client;
  let probes: ProbeTargets | undefined;
  let snmpLab: SnmpLab;
  const webhooks: Webhook[] = [];
  let dir: string;
  /** Alerts pending or firing once every dashboard expression had data, before any scenario ran. */
  let atRest: Array<Record<string, string>> = [];

  const billingApi = async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${billingUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${BILLING_TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const create = async (path: string, body: unknown): Promise<number> => {
    const r = await billingApi('POST', path, body);
    if (r.status !== 201) throw new Error(`billing POST ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return Number(r.body.id);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ispmon-stack-'));
    const inventory = join(dir, 'inventory');
    lab = await startRouterLab({
      routers: [
        { name: 'core-1', version: '7.12.1', interfaces: 4, pppSessions: 20 },
        { name: 'edge-2', version: '7.18.2', interfaces: 4, pppSessions: 5 },
      ],
    });
    postgres = await startPostgres();

    // Billing as operators run it, owning the inventory directory the exporter and Prometheus read.
    const billingPort = await freePort();
    billingUrl = `http://127.0.0.1:${billingPort}`;
    billing = spawn(process.execPath, [join(repoRoot, 'billing/dist/main.js')], {
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: await postgres.createDatabase(),
        BILLING_ENCRYPTION_KEY: 'cd'.repeat(32),
        BILLING_ADMIN_TOKEN: BILLING_TOKEN,
        MIDTRANS_SERVER_KEY: 'SB-Mid-server-stack-test',
        PORT: String(billingPort),
        HOST: '127.0.0.1',
        ISPMON_INVENTORY_DIR: inventory,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const child = billing;
    child.stdout?.on('data', (c: Buffer) => (billingOutput += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (billingOutput += c.toString()));
    billingExit = new Promise((r) => child.once('exit', (code) => r(code)));
    await waitFor('billing ready', () => httpOk(`${billingUrl}/readyz`), { timeoutMs: 90_000 }).catch(
      (err: unknown) => {
        throw new Error(`${(err as Error).message}\nbilling said:\n${billingOutput}`);
      },
    );
    const routerIds: Record<string, number> = {};
    for (const name of ['core-1', 'edge-2']) {
      const r = lab.router(name);
      routerIds[name] = await create('/api/v1/routers', {
        name,
        host: r.host,
        api_port: r.port,
        username: r.username,
        password: r.password,
        site: 'jkt',
        monitored: true,
      });
    }
    // A subscriber on a router that refuses its API: billing's sync fails and counts it (the dashboard's
    // sync-failure panel has something real to show). Not monitored, so no router alert.
    const ghost = await create('/api/v1/routers', {
      name: 'ghost-3',
      host: '127.0.0.1',
      api_port: await freePort(),
      username: 'admin',
      password: 'nobody-listens',
      site: 'jkt',
      monitored: false,
    });
    const plan = await create('/api/v1/plans', {
      code: 'HOME10',
      name: 'Home 10 Mbps',
      kind: 'pppoe',
      rate_limit: '10M/10M',
      price_idr: 150000,
      validity_days: 30,
      profile: 'home-10M',
    });
    const customer = await create('/api/v1/customers', {
      code: 'C-042',
      name: 'PT Maju Jaya',
      email: 'noc@majujaya.co.id',
    });
    await create('/api/v1/subscriptions', {
      customer_id: customer,
      plan_id: plan,
      router_id: ghost,
      ppp_username: 'maju-ghost',
      ppp_password: 'pppoe-pass-1',
    });
    // The client link, measured by the exporter's probes when the lab's probe target runs.
    if (withProbes) probes = await startProbeTargets({ count: 1, firstIndex: 221 + (process.pid % 30) });
    await create('/api/v1/links', {
      code: 'L-0001',
      customer_id: customer,
      name: 'Office to cloud',
      router_id: routerIds['core-1'],
      probe_host: probes?.targets[0]?.address ?? null,
      availability_target_percent: 99.5,
      latency_target_ms: 50, // loose enough for namespace RTTs on a loaded CI machine
      loss_target_percent: 1,
      monthly_fee_idr: 10_000_000,
      credit_policy: { tiers: [{ below_availability_percent: 99.5, credit_percent: 10 }], cap_percent: 50 },
      time_zone: 'Asia/Jakarta',
    });
    // A forged Midtrans notification: refused, and counted by outcome.
    const forged = await fetch(`${billingUrl}/payments/midtrans/notification`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        order_id: 'INV-000001-1',
        status_code: '200',
        gross_amount: '150000.00',
        transaction_status: 'settlement',
        transaction_id: 'b5e0c7a2-forged',
        payment_type: 'bank_transfer',
        signature_key: '0'.repeat(128),
      }),
    });
    expect(forged.status).toBe(401);

    // An SNMP switch (the lab's generated 24-port switch, port 3 admin up / oper down): billing does not
    // manage SNMP devices, so its file_sd entry and exporter target are written here.
    snmpLab = await startSnmpLab({ snmpd: false });
    const sw = snmpLab.endpoint('lab-switch');
    mkdirSync(join(inventory, 'file_sd'), { recursive: true });
    writeFileSync(
      join(inventory, 'file_sd/snmp.json'),
      JSON.stringify([{ targets: ['sw-1'], labels: { device: 'sw-1', site: 'jkt', module: 'if_mib' } }]),
    );

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
    const receiverBase = `http://127.0.0.1:${typeof ra === 'object' && ra ? ra.port : 0}`;

    // The real alert router (with its PostgreSQL) receives the same notifications as the recorder.
    const alertRouterDb = await postgres.createDatabase();
    alertRouter = await startRuntime({
      databaseUrl: alertRouterDb,
      port: 0,
      configText: '{}\n',
      logger: pino({ level: 'silent' }),
      pollMs: 0,
    });
    history = new pg.Client({ connectionString: alertRouterDb });
    await history.connect();

    // The shipped receiver's URL goes to the recorder (the demo's wiring, which refuses a Compose host left
    // behind); the alert router is added beside it.
    const amConfig = renderAlertmanagerConfig(
      readFileSync(join(repoRoot, 'alertmanager/alertmanager.yml'), 'utf8'),
      receiverBase,
    )
      .replace(
        'max_alerts: 0\n',
        `max_alerts: 0\n      - url: ${alertRouter.url}/webhook/alertmanager\n        send_resolved: true\n`,
      )
      .replace(/group_wait: \d+s/g, 'group_wait: 1s')
      .replace(/group_interval: \d+m/g, 'group_interval: 2s');
    am = await startAlertmanager({ config: amConfig });

    writeFileSync(
      join(dir, 'exporter.yml'),
      `listen: 127.0.0.1:0\ndefault_timeout: 1s\ntarget_files: ['${inventory}/exporter/*.yml']\ntargets:\n` +
        `  snmp:\n    - { name: sw-1, host: ${sw.host}, port: ${sw.port}, version: 2c, community: ${sw.community}, module: if_mib }\n`,
    );
    exporter = new Exporter({
      configFile: join(dir, 'exporter.yml'),
      logger: pino({ level: 'silent' }),
      targetFilePollMs: 200,
    });
    exporter.load();
    const exporterAddress = await exporter.listen();

    // prometheus/prometheus.yml rendered by the demo's wiring (as the demo renders it): the
    // exporter, inventory, rules and components/ at this run's addresses, 1 s intervals; the rules are the
    // shipped ones with `for:` shortened, in this run's rules directory.
    const promDir = join(dir, 'prometheus');
    mkdirSync(join(promDir, 'rules'), { recursive: true });
    mkdirSync(join(promDir, 'components'), { recursive: true });
    for (const f of readdirSync(join(repoRoot, 'prometheus/rules')))
      writeFileSync(
        join(promDir, 'rules', f),
        readFileSync(join(repoRoot, 'prometheus/rules', f), 'utf8').replace(/for: \d+m/g, 'for: 3s'),
      );
    const components = {
      exporter: exporterAddress,
      alertRouter: new URL(alertRouter.url).host,
      billing: `127.0.0.1:${billingPort}`,
      prometheus: '', // known once it listens (file_sd: picked up without a reload)
      alertmanager: `127.0.0.1:${am.port}`,
    };
    const writeComponents = (): void => {
      for (const [name, content] of Object.entries(componentFiles(components)))
        writeFileSync(join(promDir, 'components', name), content);
    };
    writeComponents();
    prom = await startPrometheus({
      config: renderPrometheusConfig(readFileSync(join(repoRoot, 'prometheus/prometheus.yml'), 'utf8'), {
        exporter: exporterAddress,
        inventoryDir: inventory,
        configDir: promDir,
        rulesDir: join(promDir, 'rules'),
        intervalSeconds: 1,
      }),
    });
    components.prometheus = `127.0.0.1:${prom.port}`;
    writeComponents();

    // Warm-up: every dashboard expression has data (rate windows included), then the alerts at rest.
    await waitFor(
      'every dashboard expression returning data',
      async () => {
        const { failures, empty } = await evaluateDashboards();
        return failures.length === 0 && empty.length === 0 ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 2_000 },
    ).catch(() => undefined); // the dashboard test says which
    atRest = (await prom.query('ALERTS')).map((s) => s.metric);
  }, 240_000);

  afterAll(async () => {
    await prom?.stop();
    await am?.stop();
    await exporter?.close();
    billing?.kill('SIGTERM');
    // A clean exit within 20 s (graceful shutdown); a hung billing is killed so the run ends.
    const code = await Promise.race([
      billingExit,
      new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000).unref()),
    ]);
    if (code === 'hung') billing?.kill('SIGKILL');
    await lab?.stop();
    await probes?.stop();
    await snmpLab?.stop();
    await history?.end();
    await alertRouter?.stop();
    await postgres?.stop();
    await new Promise((r) => receiver?.close(r));
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(billing ? 0 : undefined);
  }, 120_000);

  /** Every dashboard query against this run's Prometheus and alert history (1 s scrape interval). */
  const evaluateDashboards = (): Promise<DashboardEvaluation> =>
    evaluateSharedDashboards({
      query: (expr) => prom.query(expr),
      sql: async (text) => (await history.query<Record<string, unknown>>(text)).rows,
      rateInterval: '15s', // Grafana's $__rate_interval: at least four scrape intervals (1 s here)
      // said at the top of the file
      skip: (expr) => !withProbes && !probesRequired && /link:|probe_/.test(expr),
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

  it('fires PppMassDisconnect when every session of a router drops (20 → 0), and clears when they redial', async () => {
    await waitFor('core-1 at 20 sessions', async () => {
      const r = await prom.query('router:mikrotik_ppp_active_sessions:sum{router="core-1"} == 20');
      return r.length ? true : undefined;
    });
    expect(lab.router('core-1').disconnectAllPpp(15_000)).toBe(20);
    const alert = await waitFor(
      'PppMassDisconnect firing',
      async () =>
        (await firing('PppMassDisconnect')).length ? await firing('PppMassDisconnect') : undefined,
      { timeoutMs: 30_000 },
    );
    expect(alert).toEqual([
      expect.objectContaining({ alertname: 'PppMassDisconnect', router: 'core-1', severity: 'critical' }),
    ]);
    // The router's total is a 0, not a missing series, while nobody is connected.
    expect((await prom.query('router:mikrotik_ppp_active_sessions:sum{router="core-1"}'))[0]?.value[1]).toBe(
      '0',
    );
    await waitFor(
      'sessions back and PppMassDisconnect cleared',
      async () =>
        (await prom.query('router:mikrotik_ppp_active_sessions:sum{router="core-1"} == 20')).length &&
        (await firing('PppMassDisconnect')).length === 0
          ? true
          : undefined,
      { timeoutMs: 60_000 },
    );
  }, 120_000);

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

  (withProbes || probesRequired ? it : it.skip)(
    'records link availability and latency, and alerts when latency passes the link commitment and when the link goes down',
    async () => {
      const link = probes?.targets[0];
      if (!link) throw new Error('CI=true: the probe case needs network namespaces (run as root)');
      const avail = await waitFor(
        'link availability recorded',
        async () => {
          const r = await prom.query('link:probe_availability:ratio_1m{link="L-0001"}');
          return r[0]?.value[1] === '1' ? r : undefined;
        },
        { timeoutMs: 30_000 },
      );
      expect(avail[0]?.metric).toMatchObject({ link: 'L-0001', customer: 'C-042', router: 'core-1' });
      link.setLatency(150);
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
      expect(mean).toBeGreaterThan(0.05);
      link.setLatency(1);
      link.setDown(true);
      const down = await waitFor(
        'LinkDown firing',
        async () => ((await firing('LinkDown')).length ? await firing('LinkDown') : undefined),
        { timeoutMs: 150_000 },
      );
      expect(down).toEqual([expect.objectContaining({ link: 'L-0001', severity: 'critical' })]);
      link.setDown(false);
      // LinkDown clears once the rolling minute is at most half lost: 30 s of good probes at the least.
      await waitFor(
        'LinkDown cleared after recovery',
        async () => ((await firing('LinkDown')).length === 0 ? true : undefined),
        { timeoutMs: 60_000 },
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
    const up = await waitFor(
      'SNMP switch scraped',
      async () => {
        const r = await prom.query('snmp_up{device="sw-1"}');
        return r[0]?.value[1] === '1' ? r : undefined;
      },
      { timeoutMs: 120_000 }, // snmpsim answers late on a loaded machine
    );
    expect(up[0]?.metric).toMatchObject({ job: 'snmp', instance: 'sw-1', site: 'jkt' });
    const octets = await prom.query('ifHCInOctets{device="sw-1",ifIndex="1"}');
    expect(octets[0]?.value[1]).toBe('9007199254740992'); // 2^53+1 stored as float64, as Prometheus does
    const alert = await waitFor(
      'SnmpInterfaceDown firing',
      async () =>
        (await firing('SnmpInterfaceDown')).length ? await firing('SnmpInterfaceDown') : undefined,
      { timeoutMs: 120_000 }, // scrapes and rule evaluations run late on a loaded machine
    );
    expect(alert).toEqual([
      expect.objectContaining({ device: 'sw-1', ifIndex: '3', ifName: 'Te1/0/3', severity: 'warning' }),
    ]);
  }, 180_000);

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

  it('reports billing itself: its gauges, and the SLA commitments of the link it registered', async () => {
    const commitments = await waitFor('SLA commitments of L-0001 from billing', async () => {
      const r = await prom.query('{__name__=~"ispmon_link_sla_.+",job="billing"}');
      return r.length === 3 ? r : undefined;
    });
    expect(
      Object.fromEntries(
        commitments.map((s) => [s.metric.__name__, [s.metric.link, s.metric.customer, s.value[1]]]),
      ),
    ).toEqual({
      ispmon_link_sla_availability_target_ratio: ['L-0001', 'C-042', '0.995'],
      ispmon_link_sla_latency_target_seconds: ['L-0001', 'C-042', '0.05'],
      ispmon_link_sla_loss_target_ratio: ['L-0001', 'C-042', '0.01'],
    });
    const subscriptions = await prom.query('sum by (status) (ispmon_billing_subscriptions)');
    expect(Object.fromEntries(subscriptions.map((s) => [s.metric.status, s.value[1]]))).toMatchObject({
      suspended: '0',
    });
    expect(
      (await prom.query('ispmon_billing_midtrans_notifications_total{outcome="invalid_signature"}'))[0]
        ?.value[1],
    ).toBe('1');
    const failures = await waitFor('the sync failure against ghost-3 counted', async () => {
      const r = await prom.query('ispmon_billing_router_sync_failures_total{router="ghost-3"} > 0');
      return r.length ? r : undefined;
    });
    expect(failures[0]?.metric).toMatchObject({ job: 'billing', router: 'ghost-3' });
  });

  it('raises no alert at rest, apart from the switch port that is down by design', () => {
    expect(atRest.map((a) => [a.alertname, a.device ?? a.router ?? a.job, a.ifIndex ?? ''])).toEqual([
      ['SnmpInterfaceDown', 'sw-1', '3'],
    ]);
  });

  it('has data for every expression of every dashboard (variables, rate panels, billing and alert history included), with the labels their legends name', async () => {
    const result = await waitFor(
      'every dashboard expression returning data',
      async () => {
        const r = await evaluateDashboards();
        return r.failures.length === 0 && r.empty.length === 0 ? r : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 2_000 },
    ).catch(() => evaluateDashboards());
    expect(result.failures).toEqual([]);
    expect(result.empty).toEqual([]);
    expect(result.legends).toEqual([]);
    // Every variable and query of every dashboard, none left out (unless said at the top of the file).
    expect(result.evaluated + result.skipped).toBe(result.total);
    if (withProbes || probesRequired) expect(result.skipped).toBe(0);
    expect(result.total).toBeGreaterThanOrEqual(54);
  }, 90_000);
});
