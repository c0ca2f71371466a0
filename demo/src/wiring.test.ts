import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noticeExtensions, portalSettings, walledGardenFromEnv } from '@ispmon/billing';
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

describe("billing's subscriber side in the demo", () => {
  const dir = mkdtempSync(join(tmpdir(), 'demo-wiring-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const wiring = {
    billingAddress: '127.0.0.1',
    billingPort: 4567,
    paymentHosts: ['127.0.8.2'],
    portalSecret: 'x'.repeat(64),
    noticesFile: join(dir, 'notices.yml'),
    gatewayToken: 'gateway-token',
  };

  it("is read by billing's own settings readers: the page's signed links, the walled garden, the notices", () => {
    writeFileSync(
      wiring.noticesFile,
      noticesConfig({ gatewayUrl: 'http://127.0.0.1:9/', providerName: 'ISP' }),
    );
    const env = subscriberSideEnv(wiring);
    expect(portalSettings(env).links?.publicUrl).toBe('http://127.0.0.1:4567');
    expect(walledGardenFromEnv(env)).toEqual({
      portalAddress: '127.0.0.1',
      portalPort: 4567,
      allowedHosts: ['127.0.8.2'],
      allowedList: 'ispmon-walled-garden',
    });
    expect(() => noticeExtensions(env)).not.toThrow();
    const text = readFileSync(wiring.noticesFile, 'utf8');
    expect(text).toContain('"url": "http://127.0.0.1:9/sms"');
    expect(text).toContain('"url": "http://127.0.0.1:9/send"');
    expect(text).not.toContain('gateway-token'); // the token comes from the environment
  });

  it('refuses a short portal secret, and billing refuses a gateway that is not a URL, naming the field', () => {
    expect(() => subscriberSideEnv({ ...wiring, portalSecret: 'short' })).toThrow(/at least 32 bytes/);
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, noticesConfig({ gatewayUrl: 'gateway.local', providerName: 'ISP' }));
    expect(() => noticeExtensions(subscriberSideEnv({ ...wiring, noticesFile: bad }))).toThrow(/sms\.url/);
  });
});
