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
