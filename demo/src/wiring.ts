// One source of truth for deployment wiring: the demo renders the very files Compose mounts
// (prometheus/prometheus.yml, alertmanager/alertmanager.yml, deploy/alert-router/alert-router.yml,
// exporter/examples/exporter.yml), changing only addresses, paths and secrets. Pure functions over text;
// each refuses to return a configuration that still names a Compose host, so the demo can never point
// at a host that does not exist where it runs.
import { isAbsolute, join } from 'node:path';

/** Host names that exist only inside the Compose network. */
export const COMPOSE_HOSTS = [
  'exporter',
  'alert-router',
  'billing',
  'alertmanager',
  'prometheus',
  'postgres',
];

/** Throws when `text` still names a Compose service as `host:port` or in a URL. */
export function assertNoComposeHost(text: string, what: string): void {
  for (const host of COMPOSE_HOSTS) {
    const re = new RegExp(`(?:^|[\\s'"/\\[,])(${host}:\\d+)`, 'm');
    const m = re.exec(text);
    if (m) throw new Error(`${what} still points at the Compose host '${m[1] ?? host}'`);
  }
}

/** A Prometheus file_sd document with one target, or none while the address is not known yet (''). */
export function fileSd(address: string, labels: Record<string, string> = {}): string {
  return `${JSON.stringify(address ? [{ targets: [address], labels }] : [], null, 2)}\n`;
}

export interface PrometheusWiring {
  /** The exporter's host:port (device jobs are scraped through it). */
  exporter: string;
  /** Directory holding the inventory (file_sd/*.json). */
  inventoryDir: string;
  /** The directory of the rendered prometheus.yml: components/ and rules/ are read relative to it. */
  configDir: string;
  /** Directory of the rule files (the repository's prometheus/rules). */
  rulesDir: string;
  /** Scrape and evaluation interval in seconds (the shipped file says 30). */
  intervalSeconds?: number;
}

/** prometheus/prometheus.yml with the demo's addresses and paths. */
export function renderPrometheusConfig(template: string, w: PrometheusWiring): string {
  let text = template
    .replaceAll('/var/lib/ispmon/inventory', w.inventoryDir)
    .replaceAll('exporter:9436', w.exporter)
    .replace(/- rules\/\*\.yml/, `- ${join(w.rulesDir, '*.yml')}`)
    .replace(/'components\//g, `'${join(w.configDir, 'components')}/`);
  if (w.intervalSeconds !== undefined) {
    const s = w.intervalSeconds;
    text = text
      .replace(/scrape_interval: \d+s/g, `scrape_interval: ${s}s`)
      .replace(/scrape_timeout: \d+s/g, `scrape_timeout: ${Math.max(1, Math.floor(s * 0.8))}s`)
      .replace(/evaluation_interval: \d+s/, `evaluation_interval: ${s}s`);
  }
  assertNoComposeHost(text.replace(/^\s*#.*$/gm, ''), 'prometheus.yml');
  for (const m of text.matchAll(/files: \['([^']+)'\]/g)) {
    const file = m[1] ?? '';
    if (!isAbsolute(file)) throw new Error(`prometheus.yml: file_sd path ${file} is still relative`);
  }
  return text;
}

/** The component file_sd files Prometheus reads (components/<job>.json), keyed by file name. */
export function componentFiles(addresses: {
  exporter: string;
  alertRouter: string;
  billing: string;
  prometheus: string;
  alertmanager: string;
}): Record<string, string> {
  return {
    'exporter.json': fileSd(addresses.exporter),
    'alert-router.json': fileSd(addresses.alertRouter),
    'billing.json': fileSd(addresses.billing),
    'prometheus.json': fileSd(addresses.prometheus),
    'alertmanager.json': fileSd(addresses.alertmanager),
  };
}

/** alertmanager/alertmanager.yml with the alert router's webhook address. */
export function renderAlertmanagerConfig(template: string, alertRouterUrl: string): string {
  const text = template.replaceAll('http://alert-router:8080', alertRouterUrl.replace(/\/$/, ''));
  assertNoComposeHost(text.replace(/^\s*#.*$/gm, ''), 'alertmanager.yml');
  return text;
}

export interface AlertRouterWiring {
  /** Address people open from a notification (the alert router's own URL in the demo). */
  publicUrl: string;
  /** URL of the console channel (a webhook receiver that prints each notification). */
  consoleUrl: string;
}

/** deploy/alert-router/alert-router.yml with the demo's public URL and console channel. */
export function renderAlertRouterConfig(template: string, w: AlertRouterWiring): string {
  const text = template
    .replace(/^public_url: .*$/m, `public_url: ${w.publicUrl}`)
    .replaceAll('http://notify-console:9000', w.consoleUrl.replace(/\/notify$/, '').replace(/\/$/, ''));
  assertNoComposeHost(text.replace(/^\s*#.*$/gm, ''), 'alert-router.yml');
  return text;
}

/** exporter/examples/exporter.yml listening on loopback (the inventory comes from the environment). */
export function renderExporterConfig(template: string): string {
  const text = template.replace(/^listen: .*$/m, 'listen: 127.0.0.1:0');
  assertNoComposeHost(text.replace(/^\s*#.*$/gm, ''), 'exporter.yml');
  return text;
}

export interface SubscriberSideWiring {
  /** Where billing listens: its isolation page, and where the walled garden sends isolated HTTP. */
  billingAddress: string;
  billingPort: number;
  /** What an isolated subscriber may still reach besides the page: the Midtrans stand-in's address. */
  paymentHosts: string[];
  /** Signs the page's links in notices (generated per run). */
  portalSecret: string;
  /** The notices file (noticesConfig's text) billing reads through BILLING_NOTICES. */
  noticesFile: string;
  /** The gateways' token, read by the notices file through `token: { env: DEMO_GATEWAY_TOKEN }`. */
  gatewayToken: string;
}

/** Billing's environment for the subscriber's side: isolation page, walled garden, notices (billing/src/main.ts reads the same variables). */
export function subscriberSideEnv(w: SubscriberSideWiring): Record<string, string> {
  if (w.portalSecret.length < 32) throw new Error('the portal secret must be at least 32 bytes');
  return {
    PORTAL_SECRET: w.portalSecret,
    PORTAL_PUBLIC_URL: `http://${w.billingAddress}:${w.billingPort}`,
    BILLING_PORTAL_ADDRESS: w.billingAddress,
    BILLING_PORTAL_PORT: String(w.billingPort),
    BILLING_WALLED_GARDEN_HOSTS: w.paymentHosts.join(','),
    BILLING_NOTICES: w.noticesFile,
    DEMO_GATEWAY_TOKEN: w.gatewayToken,
  };
}

/**
 * The notices file (YAML; this JSON is YAML too): SMS and WhatsApp through the lab's gateway stand-ins in
 * their real wire formats, in English, at any hour (the shipped default keeps 21:00-07:00 Jakarta quiet,
 * when a demo may well run), scanned every 2 s and delivered every second so the story need not wait.
 */
export function noticesConfig(o: { gatewayUrl: string; providerName: string }): string {
  const base = o.gatewayUrl.replace(/\/$/, '');
  const token = { env: 'DEMO_GATEWAY_TOKEN' };
  const config = {
    default_language: 'en',
    quiet_hours: null,
    scan_interval_seconds: 2,
    delivery_interval_seconds: 1,
    provider_name: o.providerName,
    sms: {
      url: `${base}/sms`,
      token,
      auth_scheme: 'Bearer',
      format: 'json',
      body: { to: '{{to}}', message: '{{message}}' },
    },
    whatsapp: {
      url: `${base}/send`,
      token,
      format: 'form',
      body: { target: '{{to}}', message: '{{message}}' },
      success_field: 'status',
    },
  };
  return `# the demo's notices to subscribers (billing/src/notices/config.ts); BILLING_NOTICES names this file\n${JSON.stringify(config, null, 2)}\n`;
}
