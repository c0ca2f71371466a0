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
// docker-compose.yml requires every secret from the environment (tests/deploy/compose.test.ts); test values.
const SECRETS = {
  POSTGRES_PASSWORD: 'pg-super',
  ALERT_ROUTER_DB_PASSWORD: 'ar-db',
  BILLING_DB_PASSWORD: 'billing-db',
  GRAFANA_DB_PASSWORD: 'grafana-db',
  BILLING_ENCRYPTION_KEY: 'ab'.repeat(32),
  BILLING_ADMIN_TOKEN: 'billing-admin',
  ALERT_ROUTER_ADMIN_TOKEN: 'ar-admin',
  NOTIFY_CONSOLE_SECRET: 'console-secret',
  GRAFANA_ADMIN_PASSWORD: 'grafana-admin',
};
const env = { ...process.env, ...SECRETS, ISPMON_BIND: '' };
const files = ['-f', 'docker-compose.yml', '-f', 'deploy/compose.scale.yml'];
const REMOTE_WRITE = 'http://vminsert:8480/insert/0/prometheus/api/v1/write';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: Array<string | { host_ip?: string }>;
  healthcheck?: { test: string[] };
}

describe('deploy/compose.scale.yml', () => {
  const rendered = execFileSync('docker-compose', [...files, 'config'], {
    cwd: repoRoot,
    encoding: 'utf8',
    env,
  });
  const services = (parse(rendered) as { services: Record<string, Service> }).services;

  it('is valid for docker-compose together with docker-compose.yml', () => {
    expect(() =>
      execFileSync('docker-compose', [...files, 'config', '-q'], { cwd: repoRoot, env }),
    ).not.toThrow();
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining([
        'prometheus',
        'prometheus-0b',
        'prometheus-1',
        'prometheus-1b',
        'exporter',
        'exporter-1',
        'vmstorage',
        'vminsert',
        'vmselect',
      ]),
    );
  });

  it('pins every image it adds, mounts only files that exist, and points billing at vmselect', () => {
    for (const name of [
      'prometheus-0b',
      'prometheus-1',
      'prometheus-1b',
      'vmstorage',
      'vminsert',
      'vmselect',
    ]) {
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
    for (const name of [
      'exporter-1',
      'prometheus-0b',
      'prometheus-1',
      'prometheus-1b',
      'vmstorage',
      'vminsert',
      'vmselect',
    ]) {
      const s = services[name];
      expect({ name, health: s?.healthcheck?.test[0] }).toEqual({ name, health: 'CMD' });
      for (const p of s?.ports ?? [])
        expect({ name, host: typeof p === 'string' ? p.split(':')[0] : p.host_ip }).toEqual({
          name,
          host: '127.0.0.1',
        });
    }
    expect(services.billing?.environment?.PROMETHEUS_URL).toBe('http://vmselect:8481/select/0/prometheus');
    expect(services.billing?.environment?.PROMETHEUS_ENGINE).toBe('victoriametrics');
    expect(services.vminsert?.command).toEqual(['-storageNode=vmstorage:8400']);
    // Shard pairs write every series twice: the storage and the query side keep one sample per 15 s.
    expect(services.vmselect?.command).toEqual([
      '-storageNode=vmstorage:8401',
      '-dedup.minScrapeInterval=15s',
    ]);
    expect(services.vmstorage?.command).toContain('-dedup.minScrapeInterval=15s');
  });

  it.each([
    [0, 'a', 'prometheus', 'exporter:9436'],
    [0, 'b', 'prometheus-0b', 'exporter:9436'],
    [1, 'a', 'prometheus-1', 'exporter-1:9436'],
    [1, 'b', 'prometheus-1b', 'exporter-1:9436'],
  ])(
    'runs shard %i replica %s as %s with the generator’s output for it',
    async (shard, replica, service, exporter) => {
      const file = `deploy/scale/prometheus-shard-${shard}-${replica}.yml`;
      expect(services[service]?.volumes).toContain(
        `${join(repoRoot, file)}:/etc/prometheus/prometheus.yml:ro`,
      );
      expect(services[service]?.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
      const { stdout } = await run(
        process.execPath,
        [
          'prometheus/shards/generate.mjs',
          ...['--shards', '2', '--shard', String(shard), '--exporter', exporter],
          ...['--self', `${service}:9090`, '--remote-write', REMOTE_WRITE, '--replica', replica],
        ],
        { cwd: repoRoot },
      );
      // Stale after an edit of prometheus.yml: regenerate with the command in deploy/compose.scale.yml's header.
      const regenerate = `node prometheus/shards/generate.mjs --shards 2 --shard ${shard} --exporter ${exporter} --self ${service}:9090 --remote-write ${REMOTE_WRITE} --replica ${replica} > ${file}`;
      expect({ file, current: readFileSync(join(repoRoot, file), 'utf8') === stdout, regenerate }).toEqual({
        file,
        current: true,
        regenerate,
      });
    },
  );

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
