// The demo stack (the README's main command): the device lab (RouterOS simulator, SNMP agents, probe
// targets), the exporter, Prometheus and Alertmanager, PostgreSQL, the alert router with a console
// channel, and billing with a Midtrans stand-in, all on loopback. They run from the files Compose mounts
// (wiring.ts renders addresses and secrets into them); billing owns the inventory, as in production.
//   node demo/dist/main.js [--routers N] [--work DIR] [--probe-index N] [--interval S] [--once]
// --once starts everything, checks that every Prometheus target is up, prints, and stops.
// One SIGINT/SIGTERM stops everything and removes what the run made; more signals wait for that.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Exporter } from '@ispmon/exporter';
import { canCreateProbeTargets, startProbeTargets, startRouterLab, startSnmpLab, V3_USER } from '@ispmon/lab';
import { startRuntime as startAlertRouter, createToken } from '@ispmon/alert-router';
import {
  noticeExtensions,
  portalExtensions,
  portalLink,
  portalSettings,
  RouterOsGateway,
  slaExtensions,
  startRuntime as startBilling,
  walledGardenFromEnv,
} from '@ispmon/billing';
import { startMidtransFake } from '@ispmon/lab';
import { freePort, startAlertmanager, startPostgres, startPrometheus, waitFor } from '@ispmon/local-servers';
import { cleanEarlierRun, writeRunRecord } from './cleanup.js';
import { startConsoleChannel } from './console-channel.js';
import { startSubscriberBrowser } from './subscriber-browser.js';
import { startSubscriberPhones } from './subscriber-phone.js';
import {
  componentFiles,
  renderAlertmanagerConfig,
  renderAlertRouterConfig,
  renderExporterConfig,
  renderPrometheusConfig,
  noticesConfig,
  subscriberSideEnv,
} from './wiring.js';
import type { DemoState } from './state.js';

const root = resolve(import.meta.dirname, '..', '..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');
const STOP_STEP_MS = 8_000;
const PROVIDER = 'ispmon demo ISP';
/** demo-budi's PPP address: in 127.0.0.0/8, so the lab sends his requests from it for real. */
const BUDI_ADDRESS = '127.0.42.2';
/** The Midtrans stand-in's own loopback address: the walled garden must let it through, not billing's. */
const MIDTRANS_ADDRESS = '127.0.8.2';

// Shutdown: every started part registers its stop; they run in reverse, each bounded in time, then the
// work directory goes. The same path serves a signal, a failed start and a closed output.
const stops: Array<{ name: string; stop: () => Promise<unknown> }> = [];
let stopping: Promise<void> | undefined;
let workDir: string | undefined;
const onStop = (name: string, stop: () => Promise<unknown>): void => void stops.push({ name, stop });
// Libraries may exit on a signal themselves (puppeteer, which billing's SLA renderer launches with its
// default handleSIGINT/SIGTERM, calls process.exit(130) after killing Chromium): once a shutdown runs,
// only its own exit counts, so the cleanup always finishes.
const exit = process.exit.bind(process);
process.exit = ((code?: number | string | null) => {
  if (!stopping) return exit(code);
  return undefined as never;
}) as typeof process.exit;

function shutdown(code: number): Promise<void> {
  stopping ??= (async () => {
    const started = Date.now();
    for (const { name, stop } of stops.reverse()) {
      const began = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<string>((r) => (timer = setTimeout(() => r('timed out'), STOP_STEP_MS)));
      const outcome = await Promise.race([
        stop().then(
          () => 'ok',
          (e: unknown) => `failed: ${String(e)}`,
        ),
        timeout,
      ]);
      clearTimeout(timer);
      if (outcome !== 'ok') log(`demo: stopping ${name} ${outcome}`);
      else if (Date.now() - began > 1_000)
        log(`demo: stopping ${name} took ${((Date.now() - began) / 1000).toFixed(1)} s`);
    }
    if (workDir) rmSync(workDir, { recursive: true, force: true });
    log(`demo: stopped and cleaned up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    exit(code);
  })();
  return stopping;
}

/** Prints unless the output is gone (a closed terminal or pipe must not stop the cleanup). */
function log(line: string): void {
  try {
    console.log(line);
  } catch {
    // nobody reads any more
  }
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.on(signal, () => {
    log(
      stopping
        ? `demo: ${signal} again: still cleaning up, exiting when done`
        : `demo: ${signal}: stopping everything`,
    );
    void shutdown(0);
  });
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => void shutdown(1));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      routers: { type: 'string', default: '5' },
      work: { type: 'string', default: join(root, 'var', 'demo') },
      'probe-index': { type: 'string', default: '101' },
      interval: { type: 'string', default: '10' },
      once: { type: 'boolean', default: false },
    },
  });
  const count = Number(values.routers);
  const interval = Number(values.interval);
  const probeIndex = Number(values['probe-index']);
  if (!Number.isInteger(count) || count < 1) throw new Error('--routers must be a whole number ≥ 1');
  if (!Number.isInteger(probeIndex) || probeIndex < 1 || probeIndex > 250)
    throw new Error('--probe-index must be 1…250 (probe links use 10.213.<index>.0/30)');
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn', base: { service: 'ispmon-demo' } });
  const work = resolve(values.work);
  for (const line of await cleanEarlierRun(work)) console.log(`demo: earlier run: ${line}`);
  workDir = work;
  if (!canCreateProbeTargets())
    throw new Error(
      'the demo needs root (CAP_NET_ADMIN) for its client-link probe targets: run it with sudo',
    );
  mkdirSync(join(work, 'tmp'), { recursive: true, mode: 0o755 });
  assertReachableByOthers(join(work, 'tmp'));
  // Every temporary directory of this run (PostgreSQL, Prometheus, Alertmanager, snmpsim, probe
  // control files, Chromium) lands under the work directory, so one removal cleans them all.
  process.env.TMPDIR = join(work, 'tmp');
  const inventory = join(work, 'inventory');
  const probeCount = 2;

  // 1. The device lab: simulated MikroTik routers, SNMP agents (snmpsim recordings, snmpd), probe targets.
  const lab = await startRouterLab({ count, controlPort: 0, pppChurn: 0.02, tls: true });
  onStop('device lab', () => lab.stop());
  const snmp = await startSnmpLab();
  onStop('SNMP lab', () => snmp.stop());
  const probes = await startProbeTargets({ count: probeCount, firstIndex: probeIndex });
  onStop('probe targets', () => probes.stop());
  writeRunRecord(work, {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    namespaces: probes.targets.map((t) => t.namespace),
  });

  // SNMP devices are the operator's (billing does not manage them): a target file beside billing's.
  mkdirSync(join(inventory, 'exporter'), { recursive: true });
  mkdirSync(join(inventory, 'file_sd'), { recursive: true });
  // A recorded Linux host and the generated switch (port 3 is down by design: one SnmpInterfaceDown
  // warning at rest) over IF-MIB, snmpd over SNMPv3, and the recorded Cisco Catalyst 3750 by its system
  // group only (the recording has 46 ports administratively up and down: 46 warnings at rest otherwise).
  const snmpDevices = [
    { name: 'linux-host', device: 'linux-host', v3: false, module: 'if_mib' },
    { name: 'lab-switch', device: 'lab-switch', v3: false, module: 'if_mib' },
    { name: 'snmpd-host', device: 'snmpd', v3: true, module: 'if_mib' },
    { name: 'cisco-c3750', device: 'cisco-c3750', v3: false, module: 'system' },
  ].map((d) => ({ ...d, endpoint: snmp.endpoint(d.device) }));
  writeFileSync(
    join(inventory, 'exporter', 'snmp.yml'),
    `# the demo's SNMP devices (the operator's file; billing writes targets.yml)\nsnmp:\n${snmpDevices
      .map(({ name, endpoint: e, v3, module }) =>
        v3
          ? `  - { name: ${name}, host: ${e.host}, port: ${e.port}, version: '3', user: ${V3_USER.user}, auth_protocol: sha, auth_key: ${V3_USER.authKey}, priv_protocol: aes, priv_key: ${V3_USER.privKey}, module: ${module}, labels: { site: lab } }`
          : `  - { name: ${name}, host: ${e.host}, port: ${e.port}, version: 2c, community: ${e.community}, module: ${module}, labels: { site: lab } }`,
      )
      .join('\n')}\n`,
  );
  writeFileSync(
    join(inventory, 'file_sd', 'snmp.json'),
    `${JSON.stringify(
      snmpDevices.map((d) => ({
        targets: [d.name],
        labels: { device: d.name, site: 'lab', module: d.module },
      })),
      null,
      2,
    )}\n`,
  );

  // 2. PostgreSQL, the console channel and the alert router (deploy/alert-router/alert-router.yml).
  const pg = await startPostgres();
  onStop('PostgreSQL', () => pg.stop());
  process.env.NOTIFY_CONSOLE_SECRET = randomBytes(24).toString('hex');
  const consoleChannel = await startConsoleChannel({ secret: process.env.NOTIFY_CONSOLE_SECRET });
  onStop('console channel', () => consoleChannel.close());
  // The alert router's public URL is its own address, known after it listens: reserve the port first.
  const alertRouterPort = await freePort();
  const alertRouterUrl = `http://127.0.0.1:${alertRouterPort}`;
  const alertRouterConfig = renderAlertRouterConfig(read('deploy/alert-router/alert-router.yml'), {
    publicUrl: alertRouterUrl,
    consoleUrl: consoleChannel.url,
  });
  const am = await startAlertmanager({
    config: renderAlertmanagerConfig(read('alertmanager/alertmanager.yml'), alertRouterUrl),
  });
  onStop('Alertmanager', () => am.stop());
  const alertRouterDatabase = await pg.createDatabase('alert_router');
  const alertRouter = await startAlertRouter({
    databaseUrl: alertRouterDatabase,
    host: '127.0.0.1',
    port: alertRouterPort,
    logger,
    configText: alertRouterConfig,
    alertmanagerUrl: am.url,
  });
  onStop('alert router', () => alertRouter.stop());
  const alertRouterToken = await createToken(alertRouter.orm, 'demo-admin', 'admin');

  // 3. The exporter with exporter/examples/exporter.yml, reading the inventory billing writes.
  process.env.ISPMON_INVENTORY_DIR = inventory;
  writeFileSync(join(work, 'exporter.yml'), renderExporterConfig(read('exporter/examples/exporter.yml')));
  const exporter = new Exporter({ configFile: join(work, 'exporter.yml'), logger });
  exporter.load();
  const exporterAddress = await exporter.listen();
  onStop('exporter', () => exporter.close());

  // 4. Prometheus with prometheus/prometheus.yml, its rules, and components/ for these addresses (file_sd:
  //    billing's entry is written once billing listens, and Prometheus picks it up without a reload).
  const promDir = join(work, 'prometheus');
  mkdirSync(join(promDir, 'components'), { recursive: true });
  const writeComponents = (addresses: Parameters<typeof componentFiles>[0]): void => {
    for (const [name, content] of Object.entries(componentFiles(addresses)))
      if (content) writeFileSync(join(promDir, 'components', name), content);
  };
  const prom = await startPrometheus({
    config: renderPrometheusConfig(read('prometheus/prometheus.yml'), {
      exporter: exporterAddress,
      inventoryDir: inventory,
      configDir: promDir,
      rulesDir: join(root, 'prometheus', 'rules'),
      intervalSeconds: interval,
    }),
  });
  onStop('Prometheus', () => prom.stop());
  const components = {
    exporter: exporterAddress,
    alertRouter: alertRouterUrl.replace('http://', ''),
    billing: '',
    prometheus: prom.url.replace('http://', ''),
    alertmanager: `127.0.0.1:${am.port}`,
  };
  writeComponents(components);

  // 5. Billing with the Midtrans stand-in; it writes the inventory (routers, client links). The
  //    subscriber's side as billing/src/main.ts wires it from the same variables: the isolation page,
  //    the walled garden (dst-nat to billing's port, reserved first), notices to the subscribers' phones.
  const midtransKey = `SB-Mid-server-${randomBytes(12).toString('hex')}`;
  const midtrans = await startMidtransFake({ serverKey: midtransKey, host: MIDTRANS_ADDRESS });
  onStop('Midtrans stand-in', () => midtrans.close());
  const phones = await startSubscriberPhones({ token: randomBytes(16).toString('hex') });
  onStop("subscribers' phones", () => phones.close());
  const billingPort = await freePort();
  const noticesFile = join(work, 'billing-notices.yml');
  writeFileSync(noticesFile, noticesConfig({ gatewayUrl: phones.gatewayUrl, providerName: PROVIDER }));
  const subscriberEnv = subscriberSideEnv({
    billingAddress: '127.0.0.1',
    billingPort,
    paymentHosts: [MIDTRANS_ADDRESS],
    portalSecret: randomBytes(32).toString('hex'),
    noticesFile,
    gatewayToken: phones.token,
  });
  const walledGarden = walledGardenFromEnv(subscriberEnv);
  const gateway = new RouterOsGateway(walledGarden ? { walledGarden } : {});
  const portal = portalExtensions(subscriberEnv, { sessions: gateway });
  const signing = portalSettings(subscriberEnv).links;
  const notices = noticeExtensions(
    subscriberEnv,
    signing ? (id) => portalLink(signing, id, new Date()).url : undefined,
  );
  const sla = slaExtensions({ PROMETHEUS_URL: prom.url, SLA_PROVIDER_NAME: PROVIDER });
  const billingToken = `demo-${randomBytes(16).toString('hex')}`;
  const billing = await startBilling({
    databaseUrl: await pg.createDatabase('billing'),
    host: '127.0.0.1',
    port: billingPort,
    logger: pino({ level: process.env.LOG_LEVEL ?? 'warn', base: { service: 'ispmon-billing' } }),
    encryptionKey: randomBytes(32).toString('hex'),
    prometheusUrl: prom.url,
    inventoryDir: inventory,
    adminToken: billingToken,
    midtrans: {
      serverKey: midtransKey,
      isProduction: false,
      snapBaseUrl: midtrans.snapUrl,
      coreBaseUrl: midtrans.url,
    },
    jobs: { syncMs: 2_000 },
    gateway,
    extensions: (deps) => [...sla(deps), ...portal(deps), ...notices(deps)],
  });
  // Midtrans's "Payment Notification URL": where the stand-in's Pay button sends the signed notification.
  midtrans.notificationUrl = `${billing.url}/payments/midtrans/notification`;
  writeComponents({ ...components, billing: billing.url.replace('http://', '') });
  onStop('billing', () => billing.stop(2_000));
  const billingApi = async <T = { id: number }>(path: string, body: unknown, method = 'POST'): Promise<T> => {
    const res = await fetch(`${billing.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${billingToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`billing ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const routerIds: number[] = [];
  for (const r of lab.routers) {
    const row = await billingApi('/routers', {
      name: r.name,
      host: r.host,
      api_port: r.port,
      username: r.username,
      password: r.password,
      site: 'lab',
      monitored: true,
    });
    routerIds.push(row.id);
  }
  const first = lab.routers[0];
  if (!first) throw new Error('no lab router');
  const plan = await billingApi('/plans', {
    code: 'HOME10',
    name: 'Home 10 Mbps',
    kind: 'pppoe',
    rate_limit: '10M/10M',
    price_idr: 150000,
    validity_days: 30,
    profile: 'home-10M',
  });
  const budi = await billingApi('/customers', {
    code: 'C-0001',
    name: 'Budi Santoso',
    email: 'budi@example.co.id',
    phone: '+62 812 5555 0142',
  });
  const subscription = await billingApi('/subscriptions', {
    customer_id: budi.id,
    plan_id: plan.id,
    router_id: routerIds[0],
    ppp_username: 'demo-budi',
    ppp_password: randomBytes(9).toString('base64url'),
    remote_address: BUDI_ADDRESS,
  });
  // The walled garden on the router that holds demo-budi (billing would also put it there at the first
  // isolation): /ip/firewall/nat, /ip/firewall/filter and the allowed address list.
  const garden = await billingApi<{ commandsSent: number }>(
    `/routers/${routerIds[0]}/walled-garden`,
    {},
    'PUT',
  );
  const browser = await startSubscriberBrowser(first.model, { address: BUDI_ADDRESS, provider: PROVIDER });
  onStop("demo-budi's browser", () => browser.close());
  const enterprise = await billingApi('/customers', {
    code: 'C-0100',
    name: 'PT Maju Jaya',
    email: 'noc@majujaya.example.co.id',
  });
  const links: DemoState['links'] = [];
  for (const [k, t] of probes.targets.entries()) {
    const code = `L-${String(k + 1).padStart(4, '0')}`;
    const row = await billingApi('/links', {
      code,
      customer_id: enterprise.id,
      name: `PT Maju Jaya ${k === 0 ? 'head office' : 'warehouse'}`,
      router_id: routerIds[k % routerIds.length],
      probe_host: t.address,
      probe_protocol: 'icmp',
      bandwidth: '100M',
      availability_target_percent: 99.5,
      latency_target_ms: 50,
      loss_target_percent: 1,
      monthly_fee_idr: 5000000,
      credit_policy: { tiers: [{ below_availability_percent: 99.5, credit_percent: 10 }], cap_percent: 30 },
      contacts: ['noc@majujaya.example.co.id'],
    });
    links.push({
      id: row.id,
      code,
      address: t.address,
      namespace: t.namespace,
      hostLink: hostLinkOf(t.namespace),
    });
  }
  await billing.inventory?.write();
  await billing.syncNow();
  // demo-budi's CPE dials in (the lab's routers start sessions only for the secrets they were seeded with).
  first.model.scheduleReconnect('demo-budi', 0);
  const budiSession = await waitFor(
    "demo-budi's PPP session",
    async () => first.model.active.find((a) => a.name === 'demo-budi'),
    { timeoutMs: 30_000, intervalMs: 100 },
  );

  const state: DemoState = {
    pid: process.pid,
    work,
    intervalSeconds: interval,
    prometheus: prom.url,
    alertmanager: am.url,
    exporter: `http://${exporterAddress}`,
    labControl: lab.controlUrl ?? '',
    routers: lab.routers.map((r) => ({
      name: r.name,
      host: r.host,
      port: r.port,
      username: r.username,
      password: r.password,
    })),
    alertRouter: { url: alertRouterUrl, token: alertRouterToken, databaseUrl: alertRouterDatabase },
    console: consoleChannel.url.replace(/\/notify$/, ''),
    billing: { url: billing.url, token: billingToken },
    subscription: { id: subscription.id, pppUsername: 'demo-budi', router: first.name },
    subscriber: {
      address: BUDI_ADDRESS,
      proxy: browser.proxy,
      site: browser.site,
      inbox: phones.inboxUrl,
      paymentHost: MIDTRANS_ADDRESS,
    },
    portal: `${billing.url}/portal`,
    links,
  };
  writeFileSync(join(work, 'demo.json'), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });

  console.log(
    [
      'ispmon demo stack is up (everything on loopback, 127.0.0.0/8):',
      `  Prometheus     ${state.prometheus}   (try: mikrotik_up, up, link:probe_rtt_seconds:mean_1m, ALERTS)`,
      `  Alertmanager   ${am.url}`,
      `  exporter       ${state.exporter}/metrics   ${state.exporter}/probe?target=${first.name}&module=routeros`,
      `  device lab     ${count} RouterOS routers, control API ${lab.controlUrl}/routers`,
      ...lab.routers
        .slice(0, 10)
        .map(
          (r) =>
            `                 ${r.name}  RouterOS ${r.version}  api 127.0.0.1:${r.port}  api-ssl 127.0.0.1:${r.tlsPort}  user ${r.username} / ${r.password}`,
        ),
      ...snmpDevices.map(
        ({ name, endpoint: e, v3 }) =>
          `  SNMP device    ${name.padEnd(12)} ${e.agent} udp ${e.host}:${e.port}  ${v3 ? `v3 ${V3_USER.user} SHA/${V3_USER.authKey} AES/${V3_USER.privKey}` : `v2c community ${e.community}`}`,
      ),
      ...links.map(
        (l) =>
          `  client link    ${l.code} (PT Maju Jaya, SLA 99.5 %)  probed at ${l.address}  (try: link:probe_rtt_seconds:mean_1m, ispmon_link_sla_availability_target_ratio)`,
      ),
      `  inventory      ${inventory}  (written by billing: exporter/targets.yml, file_sd/routeros.json, file_sd/probes.json; the demo's SNMP: exporter/snmp.yml, file_sd/snmp.json)`,
      `  alert router   ${alertRouterUrl}/api/v1/incidents   (Authorization: Bearer ${alertRouterToken})   ${alertRouterUrl}/openapi.json`,
      `  billing        ${billing.url}/api/v1/subscriptions   (Authorization: Bearer ${billingToken})   ${billing.url}/openapi.json`,
      `                 subscription ${subscription.id} = PPP secret demo-budi on ${first.name}; Midtrans stand-in ${midtrans.url} (its Snap page has a Pay button)`,
      `  isolation page ${billing.url}/portal   (what a suspended subscriber sees; notices carry signed links to it)`,
      `                 walled garden on ${first.name} (${garden.commandsSent} commands): HTTP from the isolir list dst-nat'ed to it, ${MIDTRANS_ADDRESS} (Midtrans) allowed, the rest dropped`,
      `  demo-budi      PPP session ${budiSession.address} on ${first.name}; his browser behind the router: curl -x ${browser.proxy} ${browser.site}`,
      `  subscribers' phones  SMS and WhatsApp gateway stand-ins ${phones.gatewayUrl} (/sms, /send); notices printed below ([sms]/[whatsapp] lines)`,
      `  PostgreSQL     ${pg.url('alert_router')}   ${pg.url('billing')}`,
      `  notifications  printed below ([notify] lines) by the console channel ${consoleChannel.url}`,
      '',
      'The story (in another terminal):  npm run demo:story',
      'Or make something happen yourself (undo on the line after each):',
      `  curl -X POST ${lab.controlUrl}/routers/${first.name}/unresponsive -d '{"mode":"refuse"}'    # RouterDown after 2 min`,
      `  curl -X POST ${lab.controlUrl}/routers/${first.name}/unresponsive -d '{"mode":false}'`,
      `  curl -X POST ${lab.controlUrl}/routers/${first.name}/interfaces/sfp-sfpplus2 -d '{"running":false}'`,
      `  curl -X POST ${lab.controlUrl}/routers/${first.name}/interfaces/sfp-sfpplus2 -d '{"running":true}'`,
      `  curl -X POST ${lab.controlUrl}/routers/${first.name}/ppp/disconnect-all -d '{"reconnectAfterMs":300000}'   # sessions return after 5 min`,
      ...links
        .flatMap((l) => [
          `  ip link set ${l.hostLink} down    # client link ${l.code} down: LinkDown`,
          `  ip link set ${l.hostLink} up && ip addr replace ${l.address.replace(/\.2$/, '.1')}/30 dev ${l.hostLink}`,
        ])
        .slice(0, 2),
      'Press Ctrl-C to stop (everything stops and is removed).',
    ].join('\n'),
  );

  if (values.once) {
    const targets = await waitUntilAllTargetsUp(prom, interval);
    console.log(`demo check: ${targets} Prometheus targets up`);
    const onRouter = first.secrets().find((x) => x.name === 'demo-budi');
    console.log(
      `demo check: billing subscription ${onRouter ? `provisioned on ${first.name} with profile ${onRouter.profile}` : 'NOT provisioned'}`,
    );
    await shutdown(0);
  }
}

/** The host side of a probe target's veth pair (lab/src/probes/targets.ts names it isp<pid>h<index>). */
function hostLinkOf(namespace: string): string {
  const m = /^ispmon-p(\d+)-(\d+)$/.exec(namespace);
  if (!m) throw new Error(`unexpected probe namespace name ${namespace}`);
  return `isp${m[1]}h${m[2]}`;
}

/** PostgreSQL and snmpsim run as unprivileged users (as root): they must reach the work directory. */
function assertReachableByOthers(dir: string): void {
  if (process.getuid?.() !== 0) return;
  for (let d = dir; d !== dirname(d); d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0)
      throw new Error(
        `${d} is not reachable by other users (mode o+x missing); PostgreSQL and snmpsim run unprivileged: chmod o+x ${d} or choose another --work`,
      );
  }
}

/** Waits until every active target is up; throws naming the ones that are not. */
export async function waitUntilAllTargetsUp(
  prom: { api<T>(path: string): Promise<T> },
  intervalSeconds: number,
): Promise<number> {
  interface Target {
    labels: Record<string, string>;
    health: string;
    lastError: string;
  }
  let last: Target[] = [];
  try {
    return await waitFor(
      'every Prometheus target up',
      async () => {
        last = (await prom.api<{ activeTargets: Target[] }>('/api/v1/targets?state=active')).activeTargets;
        return last.length > 0 && last.every((t) => t.health === 'up') ? last.length : undefined;
      },
      { timeoutMs: 3 * intervalSeconds * 1000 + 15_000, intervalMs: 500 },
    );
  } catch {
    const down = last
      .filter((t) => t.health !== 'up')
      .map((t) => `${t.labels.job}/${t.labels.instance}: ${t.health} ${t.lastError}`);
    throw new Error(`Prometheus targets not up:\n  ${down.join('\n  ')}`);
  }
}

main().catch((err: unknown) => {
  console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
  void shutdown(1);
});
