import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

// No Docker engine runs here; docker-compose 1.29 (Debian) validates the file without a daemon,
// and these checks pin what a review would: every build target, mount and entry point exists.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface ComposeService {
  build?: { context: string; target?: string };
  volumes?: string[];
}

describe('docker-compose.yml and the Dockerfile', () => {
  const rendered = execFileSync('docker-compose', ['config'], { cwd: root, encoding: 'utf8' });
  const compose = parse(rendered) as { services: Record<string, ComposeService> };
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const targets = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);

  it('is valid for docker-compose', () => {
    expect(() => execFileSync('docker-compose', ['config', '-q'], { cwd: root })).not.toThrow();
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining([
        'postgres',
        'prometheus',
        'alertmanager',
        'grafana',
        'exporter',
        'alert-router',
        'billing',
        'lab',
      ]),
    );
  });

  it('builds every service from a target the Dockerfile defines', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (!service.build) continue;
      expect({ name, target: service.build.target }).toEqual({ name, target: expect.any(String) });
      expect(targets).toContain(service.build.target);
    }
  });

  it('mounts only paths that exist in the repository', () => {
    for (const service of Object.values(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] ?? '';
        if (!source.startsWith('/')) continue; // named volume
        if (!source.startsWith(root)) continue;
        expect({ source, exists: existsSync(source) }).toEqual({ source, exists: true });
      }
    }
  });

  it('starts each service image from a compiled entry point that has a source file', () => {
    for (const match of dockerfile.matchAll(/^CMD \["node", "([^"]+)"/gm)) {
      const entry = match[1] ?? '';
      const source = entry.replace('/dist/', '/src/').replace(/\.js$/, '.ts');
      expect({ entry, exists: existsSync(join(root, source)) }).toEqual({ entry, exists: true });
    }
  });
});
