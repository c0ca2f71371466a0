// The demo stack (the README's main command): the device lab, the exporter, Prometheus and Alertmanager
// with the project's own configuration, all on loopback, wired through inventory files the way billing
// wires production. Prints every address and credential. Ctrl-C (SIGINT) or SIGTERM stops everything.
//   node demo/dist/main.js [--routers N] [--once]
// --once starts everything, waits until Prometheus has scraped every router, prints, and stops: the
// README's command is tested that way (tests/demo.test.ts).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Exporter } from '@ispmon/exporter';
import { canCreateProbeTargets, startProbeTargets, startRouterLab, writeInventory } from '@ispmon/lab';
import { startRuntime as startAlertRouter, createToken } from '@ispmon/alert-router';
import { issueToken, slaExtensions, startRuntime as startBilling } from '@ispmon/billing';
import { startMidtransFake } from '@ispmon/lab';
import { startAlertmanager, startPostgres, startPrometheus, waitFor } from '@ispmon/testkit';

const root = resolve(import.meta.dirname, '..', '..');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { routers: { type: 'string', default: '5' }, once: { type: 'boolean', default: false } },
  });
  const count = Number(values.routers);
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn', base: { service: 'ispmon-demo' } });
  const work = join(root, 'var', 'demo');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const inventory = join(work, 'inventory');

  const stops: Array<() => Promise<void>> = [];
  let stopping = false;
  const shutdown = async (code = 0): Promise<never> => {
    if (!stopping) {
      stopping = true;
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
    }
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());

  // 1. The device lab: simulated MikroTik routers with living counters and PPP sessions.
  const lab = await startRouterLab({ count, controlPort: 0, pppChurn: 0.02, tls: true });
  stops.push(() => lab.stop());
  writeInventory(inventory, lab, 'demo');
  // Two enterprise client links, probed continuously (network namespaces: only when run as root).
  const probes = canCreateProbeTargets() ? await startProbeTargets({ count: 2, firstIndex: 101 }) : undefined;
  if (probes) stops.push(() => probes.stop());
  const links = (probes?.targets ?? []).map((t, i) => ({
    id: `L-${String(i + 1).padStart(4, '0')}`,
    customer: `C-${100 + i}`,
    target: t,
  }));
  writeFileSync(
    join(inventory, 'file_sd', 'probes.json'),
    JSON.stringify(
      links.map((l) => ({
        targets: [l.id],
        labels: { link: l.id, customer: l.customer, router: lab.routers[0]?.name ?? '', module: 'icmp' },
      })),
    ),
  );

  // 2. PostgreSQL and the alert router (history, escalation, notifications). Notifications go to a
  //    webhook channel that prints each message here, standing in for Telegram/e-mail in the demo.
  const pg = await startPostgres();
  stops.push(() => pg.stop());
  const printer = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          kind: string;
          incident: { alertname: string; severity: string; summary: string; url: string };
        };
        console.log(
          `[notify] ${body.kind.padEnd(8)} ${body.incident.severity} ${body.incident.alertname}: ${body.incident.summary} (${body.incident.url})`,
        );
      } catch {
        console.log('[notify] unreadable notification');
      }
      res.end('ok');
    });
  });
  await new Promise<void>((r) => printer.listen(0, '127.0.0.1', r));
  stops.push(() => new Promise((r) => printer.close(() => r())));
  const pa = printer.address();
  const printerUrl = `http://127.0.0.1:${typeof pa === 'object' && pa ? pa.port : 0}/notify`;
  const alertRouter = await startAlertRouter({
    databaseUrl: await pg.createDatabase('alert_router'),
    port: 0,
    logger,
    configText: [
      'channels:',
      `  demo-console: { type: webhook, url: "${printerUrl}", secret: demo-secret }`,
      'policies:',
      '  - name: everything',
      '    steps: [{ notify: [demo-console], wait: 15m }]',
      '    repeat: 1h',
    ].join('\n'),
  });
  stops.push(() => alertRouter.stop());
  const adminToken = await createToken(alertRouter.orm, 'demo-admin', 'admin');
  const webhookUrl = `${alertRouter.url}/webhook/alertmanager`;

  // 3. Alertmanager with alertmanager/alertmanager.yml.
  const am = await startAlertmanager({
    config: readFileSync(join(root, 'alertmanager/alertmanager.yml'), 'utf8').replace(
      'http://alert-router:8080/webhook/alertmanager',
      webhookUrl,
    ),
  });
  stops.push(() => am.stop());

  // 4. The exporter, reading the lab's inventory file like it reads billing's.
  writeFileSync(
    join(work, 'exporter.yml'),
    `listen: 127.0.0.1:0\ndefault_timeout: 3s\ntarget_files: ['${inventory}/exporter/*.yml']\n`,
  );
  const exporter = new Exporter({ configFile: join(work, 'exporter.yml'), logger });
  exporter.load();
  const exporterAddress = await exporter.listen(process.env.ISPMON_EXPORTER_LISTEN);
  stops.push(() => exporter.close());

  // 5. Prometheus with prometheus/prometheus.yml and the project's rules (10 s scrapes for the demo).
  const files: Record<string, string> = {};
  for (const f of readdirSync(join(root, 'prometheus/rules')))
    files[`rules-${f}`] = readFileSync(join(root, 'prometheus/rules', f), 'utf8');
  const prom = await startPrometheus({
    config: readFileSync(join(root, 'prometheus/prometheus.yml'), 'utf8')
      .replaceAll('/var/lib/ispmon/inventory', inventory)
      .replaceAll('exporter:9436', exporterAddress)
      .replace("'alertmanager:9093'", `'127.0.0.1:${am.port}'`)
      .replace(/scrape_interval: \d+s/g, 'scrape_interval: 10s')
      .replace(/scrape_timeout: \d+s/g, 'scrape_timeout: 8s')
      .replace(/evaluation_interval: \d+s/, 'evaluation_interval: 10s')
      .replace('- rules/*.yml', '- {{dir}}/rules-*.yml'),
    files,
  });
  stops.push(() => prom.stop());

  // 6. Billing with a loopback Midtrans stand-in; the first lab router, a plan, a customer and a
  // subscription are registered so staff see a working account (its PPP secret appears on the router).
  const midtransKey = 'SB-Mid-server-ispmon-demo';
  const midtrans = await startMidtransFake({ serverKey: midtransKey });
  stops.push(() => midtrans.close());
  const billing = await startBilling({
    databaseUrl: await pg.createDatabase('billing'),
    port: 0,
    logger: pino({ level: 'warn', base: { service: 'ispmon-billing' } }),
    encryptionKey: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
    prometheusUrl: prom.url,
    midtrans: {
      serverKey: midtransKey,
      isProduction: false,
      snapBaseUrl: midtrans.snapUrl,
      coreBaseUrl: midtrans.url,
    },
    extensions: slaExtensions({ PROMETHEUS_URL: prom.url, SLA_PROVIDER_NAME: 'ispmon demo ISP' }),
  });
  stops.push(() => billing.stop(2_000));
  const billingToken = await issueToken(billing.orm, 'demo-admin', 'admin');
  const billingApi = async (path: string, body: unknown): Promise<{ id: number }> => {
    const res = await fetch(`${billing.url}/api/v1${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${billingToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`billing ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: number };
  };
  const first = lab.routers[0];
  const demoRouter = await billingApi('/routers', {
    name: first?.name,
    host: '127.0.0.1',
    api_port: first?.port,
    username: first?.username,
    password: first?.password,
    site: 'lab',
    monitored: false,
  });
  const demoPlan = await billingApi('/plans', {
    code: 'HOME10',
    name: 'Home 10 Mbps',
    kind: 'pppoe',
    rate_limit: '10M/10M',
    price_idr: 150000,
    validity_days: 30,
    profile: 'home-10M',
  });
  const demoCustomer = await billingApi('/customers', {
    code: 'C-0001',
    name: 'Budi Santoso',
    email: 'budi@example.co.id',
  });
  const demoSub = await billingApi('/subscriptions', {
    customer_id: demoCustomer.id,
    plan_id: demoPlan.id,
    router_id: demoRouter.id,
    ppp_username: 'demo-budi',
    ppp_password: 'demo-pass-1',
  });
  console.log(
    [
      'ispmon demo stack is up (everything on 127.0.0.1):',
      `  Prometheus     ${prom.url}   (try: mikrotik_up, sum by (router) (mikrotik_ppp_active_sessions), ALERTS)`,
      `  Alertmanager   ${am.url}`,
      `  exporter       http://${exporterAddress}/metrics   http://${exporterAddress}/probe?target=${first?.name}&module=routeros`,
      `  device lab     ${count} RouterOS routers, control API ${lab.controlUrl}/routers`,
      ...lab.routers
        .slice(0, 10)
        .map(
          (r) =>
            `                 ${r.name}  RouterOS ${r.version}  api 127.0.0.1:${r.port}  api-ssl 127.0.0.1:${r.tlsPort}  user ${r.username} / ${r.password}`,
        ),
      `  inventory      ${inventory}  (exporter/targets.yml, file_sd/routeros.json, file_sd/probes.json)`,
      ...(links.length
        ? links.map(
            (l) =>
              `  client link    ${l.id} (${l.customer})  probed at ${l.target.address}  (try: link:probe_rtt_seconds:mean_1m)`,
          )
        : ['  client links   not started: probe targets need root (network namespaces)']),
      `  alert router   ${alertRouter.url}/api/v1/incidents   (Authorization: Bearer ${adminToken})   ${alertRouter.url}/openapi.json`,
      `  billing        ${billing.url}/api/v1/subscriptions   (Authorization: Bearer ${billingToken})   ${billing.url}/openapi.json`,
      `                 subscription ${demoSub.id} = PPP secret demo-budi on ${first?.name}; pay its invoice: POST ${billing.url}/api/v1/invoices/<id>/midtrans (Midtrans stand-in ${midtrans.url})`,
      `  PostgreSQL     ${pg.url('alert_router')}   ${pg.url('billing')}`,
      `  notifications  printed below ([notify] lines) as the alert router escalates`,
      '',
      'Make something happen:',
      `  curl -X POST ${lab.controlUrl}/routers/${first?.name}/unresponsive -d '{"mode":"refuse"}'    # RouterDown after 2 min`,
      `  curl -X POST ${lab.controlUrl}/routers/${first?.name}/interfaces/sfp-sfpplus2 -d '{"running":false}'`,
      `  curl -X POST ${lab.controlUrl}/routers/${first?.name}/ppp/disconnect-all -d '{"reconnectAfterMs":600000}'`,
      'Press Ctrl-C to stop.',
    ].join('\n'),
  );

  if (values.once) {
    const up = await waitFor(
      'Prometheus to scrape every lab router',
      async () => {
        const r = await prom.query('mikrotik_up == 1');
        return r.length === count ? r.length : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    console.log(`demo check: Prometheus scraped ${up}/${count} routers through the exporter`);
    const ready = await fetch(`${alertRouter.url}/readyz`);
    console.log(`demo check: alert router ${ready.ok ? 'ready' : 'NOT ready'}`);
    await billing.syncNow();
    const onRouter = first?.secrets().find((x) => x.name === 'demo-budi');
    console.log(
      `demo check: billing subscription ${onRouter ? `provisioned on ${first?.name} with profile ${onRouter.profile}` : 'NOT provisioned'}`,
    );
    await shutdown(0);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
