import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { repoRoot } from '../support/paths.js';

// The scale profile (deploy/compose.scale.yml over docker-compose.yml): validated by docker-compose
// without a daemon, and held to its sources — the shard configurations are the generator's output and
// Grafana's datasources are the shipped ones with the Prometheus URL moved to the global layer.
const run = promisify(execFile);
const files = ['-f', 'docker-compose.yml', '-f', 'deploy/compose.scale.yml'];
const REMOTE_WRITE = 'http://vminsert:8480/insert/0/prometheus/api/v1/write';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
}

describe('deploy/compose.scale.yml', () => {
  const rendered = execFileSync('docker-compose', [...files, 'config'], { cwd: repoRoot, encoding: 'utf8' });
  const services = (parse(rendered) as { services: Record<string, Service> }).services;

  it('is valid for docker-compose together with docker-compose.yml', () => {
    expect(() => execFileSync('docker-compose', [...files, 'config', '-q'], { cwd: repoRoot })).not.toThrow();
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining([
        'prometheus',
        'prometheus-1',
        'exporter',
        'exporter-1',
        'vmstorage',
        'vminsert',
        'vmselect',
      ]),
    );
  });

  it('pins every image it adds, mounts only files that exist, and points billing at vmselect', () => {
    for (const name of ['prometheus-1', 'vmstorage', 'vminsert', 'vmselect']) {
      expect({ name, image: services[name]?.image }).toEqual({
        name,
        image: expect.stringMatching(/:v\d+\.\d+\.\d+/),
      });
    }
    for (const [name, s] of Object.entries(services))
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0] ?? '';
        if (source.startsWith(repoRoot))
          expect({ name, source, exists: existsSync(source) }).toEqual({ name, source, exists: true });
      }
    expect(services.billing?.environment?.PROMETHEUS_URL).toBe('http://vmselect:8481/select/0/prometheus');
    expect(services.vminsert?.command).toEqual(['-storageNode=vmstorage:8400']);
    expect(services.vmselect?.command).toEqual(['-storageNode=vmstorage:8401']);
  });

  it.each([
    [0, 'prometheus', 'exporter:9436'],
    [1, 'prometheus-1', 'exporter-1:9436'],
  ])('runs shard %i as %s with the generator’s output for it', async (shard, service, exporter) => {
    const file = `deploy/scale/prometheus-shard-${shard}.yml`;
    expect(services[service]?.volumes).toContain(`${join(repoRoot, file)}:/etc/prometheus/prometheus.yml:ro`);
    expect(services[service]?.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    const { stdout } = await run(
      process.execPath,
      [
        'prometheus/shards/generate.mjs',
        ...['--shards', '2', '--shard', String(shard), '--exporter', exporter],
        ...['--self', `${service}:9090`, '--remote-write', REMOTE_WRITE],
      ],
      { cwd: repoRoot },
    );
    // Stale after an edit of prometheus.yml: regenerate with the command in deploy/compose.scale.yml's header.
    const regenerate = `node prometheus/shards/generate.mjs --shards 2 --shard ${shard} --exporter ${exporter} --self ${service}:9090 --remote-write ${REMOTE_WRITE} > ${file}`;
    expect({ file, current: readFileSync(join(repoRoot, file), 'utf8') === stdout, regenerate }).toEqual({
      file,
      current: true,
      regenerate,
    });
  });

  it('gives Grafana the shipped datasources with only the Prometheus URL moved to vmselect', () => {
    type Sources = { datasources: Array<Record<string, unknown>> };
    const shipped = parse(
      readFileSync(join(repoRoot, 'grafana/provisioning/datasources/ispmon.yml'), 'utf8'),
    ) as Sources;
    const scale = parse(
      readFileSync(join(repoRoot, 'deploy/scale/grafana-datasources.yml'), 'utf8'),
    ) as Sources;
    expect(scale).toEqual({
      ...shipped,
      datasources: shipped.datasources.map((d) =>
        d.uid === 'ispmon-prometheus' ? { ...d, url: 'http://vmselect:8481/select/0/prometheus' } : d,
      ),
    });
    expect(services.grafana?.volumes).toContain(
      `${join(repoRoot, 'deploy/scale/grafana-datasources.yml')}:/etc/grafana/provisioning/datasources/ispmon.yml:ro`,
    );
  });
});
