import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTargetsFile } from '@ispmon/exporter';
import { probeFileSd, renderExporterTargets, routerFileSd, writeIfChanged } from '../src/index.js';

describe('inventory format', () => {
  it('renders a target file the exporter reads back as written, including a comment with a quote', () => {
    const text = renderExporterTargets('ispmon billing', {
      routers: [
        {
          name: 'core-jkt-1',
          host: '10.0.0.1',
          port: 8729,
          tls: { insecure_skip_verify: true },
          username: 'monitor',
          password: { file: '/var/lib/ispmon/inventory/secrets/router-core-jkt-1.password' },
          labels: { site: 'jkt' },
        },
        {
          name: 'lab-2',
          host: '127.0.0.1',
          port: 18729,
          username: 'admin',
          password: 'pa"ss: #1',
          labels: {},
        },
      ],
      probes: [
        { name: 'L-0001', host: '10.213.1.2', protocol: 'icmp', labels: { link: 'L-0001', customer: 'C-1' } },
      ],
    });
    expect(text.startsWith('# written by ispmon billing; edit it there, not here\n')).toBe(true);
    const parsed = parseTargetsFile(text, 'inventory.yml');
    expect(parsed.routers.map((r) => [r.name, r.host, r.port, r.username])).toEqual([
      ['core-jkt-1', '10.0.0.1', 8729, 'monitor'],
      ['lab-2', '127.0.0.1', 18729, 'admin'],
    ]);
    expect(parsed.routers[1]?.password).toBe('pa"ss: #1');
    expect(parsed.probes.map((p) => [p.name, p.host, p.protocol])).toEqual([
      ['L-0001', '10.213.1.2', 'icmp'],
    ]);
  });

  it('names each target in file_sd with its labels and module', () => {
    expect(JSON.parse(routerFileSd([{ name: 'r1', labels: { site: 'jkt' } }]))).toEqual([
      { targets: ['r1'], labels: { router: 'r1', site: 'jkt', module: 'routeros' } },
    ]);
    expect(JSON.parse(probeFileSd([{ name: 'L-1', protocol: 'tcp', labels: { customer: 'C-1' } }]))).toEqual([
      { targets: ['L-1'], labels: { link: 'L-1', customer: 'C-1', module: 'tcp' } },
    ]);
  });

  it('writes atomically and only when the content changed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ispmon-inventory-'));
    try {
      const path = join(dir, 'targets.yml');
      expect(writeIfChanged(path, 'a\n', 0o600)).toBe(true);
      const first = statSync(path);
      expect(first.mode & 0o777).toBe(0o600);
      expect(writeIfChanged(path, 'a\n', 0o600)).toBe(false);
      expect(statSync(path).ino).toBe(first.ino);
      expect(writeIfChanged(path, 'b\n')).toBe(true);
      expect(statSync(path).ino).not.toBe(first.ino);
      expect(readFileSync(path, 'utf8')).toBe('b\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
