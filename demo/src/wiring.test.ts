import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  assertNoComposeHost,
  componentFiles,
  renderAlertmanagerConfig,
  renderAlertRouterConfig,
  renderExporterConfig,
  renderPrometheusConfig,
  noticesConfig,
  subscriberSideEnv,
} from './wiring.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (p: string): string => readFileSync(join(root, p), 'utf8');

describe('the demo renders the files Compose mounts', () => {
  it('prometheus.yml: the exporter, inventory, rules and components at the demo addresses, nothing of Compose left', () => {
    const text = renderPrometheusConfig(read('prometheus/prometheus.yml'), {
      exporter: '127.0.0.1:9999',
      inventoryDir: '/run/demo/inventory',
      configDir: '/run/demo/prometheus',
      rulesDir: '/repo/prometheus/rules',
      intervalSeconds: 10,
    });
    expect(text).toContain('replacement: 127.0.0.1:9999');
    expect(text).toContain("files: ['/run/demo/inventory/file_sd/routeros*.json']");
    expect(text).toContain("files: ['/run/demo/prometheus/components/alertmanager.json']");
    expect(text).toContain('- /repo/prometheus/rules/*.yml');
    expect(text).toMatch(/scrape_interval: 10s/);
    expect(text).not.toMatch(/(^|[^#\n]*[\s'/])(exporter|alertmanager|alert-router|billing):\d+/m);
  });

  it('writes component files for every job the configuration reads', () => {
    const jobs = [...read('prometheus/prometheus.yml').matchAll(/'components\/([\w-]+\.json)'/g)].map(
      (m) => m[1],
    );
    const files = componentFiles({
      exporter: '127.0.0.1:1',
      alertRouter: '127.0.0.1:2',
      billing: '',
      prometheus: '127.0.0.1:4',
      alertmanager: '127.0.0.1:5',
    });
    expect([...new Set(jobs)].sort()).toEqual(Object.keys(files).sort());
    expect(JSON.parse(files['billing.json'] ?? '')).toEqual([]); // not listening yet: no target, no false "down"
    expect(JSON.parse(files['exporter.json'] ?? '')).toEqual([{ targets: ['127.0.0.1:1'], labels: {} }]);
  });

  it('alertmanager.yml, alert-router.yml and exporter.yml at the demo addresses', () => {
    expect(renderAlertmanagerConfig(read('alertmanager/alertmanager.yml'), 'http://127.0.0.1:7/')).toContain(
      'url: http://127.0.0.1:7/webhook/alertmanager',
    );
    const ar = renderAlertRouterConfig(read('deploy/alert-router/alert-router.yml'), {
      publicUrl: 'http://127.0.0.1:7',
      consoleUrl: 'http://127.0.0.1:8/notify',
    });
    expect(ar).toMatch(/^public_url: http:\/\/127\.0\.0\.1:7$/m);
    expect(ar).toContain('url: http://127.0.0.1:8/notify');
    expect(renderExporterConfig(read('exporter/examples/exporter.yml'))).toMatch(/^listen: 127\.0\.0\.1:0$/m);
  });

  it('refuses a configuration that still names a Compose host', () => {
    expect(() => assertNoComposeHost("targets: ['billing:8090']", 'x.yml')).toThrow(
      "x.yml still points at the Compose host 'billing:8090'",
    );
    expect(() => renderAlertmanagerConfig('url: http://alert-router:9999/x', 'http://127.0.0.1:1')).toThrow(
      /alert-router:9999/,
    );
    expect(() => assertNoComposeHost('url: http://127.0.0.1:9090 # not exporter-like', 'x')).not.toThrow();
  });
});

// That billing accepts these (its own readers refuse a wrong value at start) is shown by tests/demo.test.ts,
// where billing runs with them; importing billing here would transpile all of it for two checks.
describe("billing's subscriber side in the demo", () => {
  const wiring = {
    billingAddress: '127.0.0.1',
    billingPort: 4567,
    paymentHosts: ['127.0.8.2'],
    portalSecret: 'x'.repeat(64),
    noticesFile: '/run/demo/billing-notices.yml',
    gatewayToken: 'gateway-token',
  };

  it('points the page, its links and the walled garden at billing, and lets the payment host through', () => {
    expect(subscriberSideEnv(wiring)).toEqual({
      PORTAL_SECRET: 'x'.repeat(64),
      PORTAL_PUBLIC_URL: 'http://127.0.0.1:4567',
      BILLING_PORTAL_ADDRESS: '127.0.0.1',
      BILLING_PORTAL_PORT: '4567',
      BILLING_WALLED_GARDEN_HOSTS: '127.0.8.2',
      BILLING_NOTICES: '/run/demo/billing-notices.yml',
      DEMO_GATEWAY_TOKEN: 'gateway-token',
    });
  });

  it('sends notices to the gateways in their wire formats, the token from the environment, at any hour', () => {
    const text = noticesConfig({ gatewayUrl: 'http://127.0.0.1:9/', providerName: 'ISP' });
    expect(text.split('\n')[0]).toMatch(/^# /);
    const config = JSON.parse(text.replace(/^#.*\n/, '')) as Record<string, unknown>;
    expect(config).toMatchObject({
      default_language: 'en',
      quiet_hours: null,
      provider_name: 'ISP',
      sms: { url: 'http://127.0.0.1:9/sms', token: { env: 'DEMO_GATEWAY_TOKEN' }, format: 'json' },
      whatsapp: { url: 'http://127.0.0.1:9/send', token: { env: 'DEMO_GATEWAY_TOKEN' }, format: 'form' },
    });
    expect(config).not.toHaveProperty('email'); // the demo has no SMTP server
  });

  it('refuses a portal secret shorter than billing accepts', () => {
    expect(() => subscriberSideEnv({ ...wiring, portalSecret: 'short' })).toThrow(/at least 32 bytes/);
  });
});
