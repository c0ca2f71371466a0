import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import pg from 'pg';
import { parseRouterConfig } from '../../alert-router/src/config.js';
import { startPostgres, type PostgresServer } from '@ispmon/testkit';

// No Docker engine runs here; docker-compose 1.29 (Debian) validates the file without a daemon,
// and these checks pin what a review would: every build target, mount and entry point exists, every
// secret is required, ports stay on loopback, every service is health-checked, every host a mounted
// configuration names is a service of this file, images are the versions the tests run.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

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

interface ComposeService {
  image?: string;
  build?: { context: string; target?: string };
  volumes?: Array<string | { source?: string; target: string; type: string }>;
  ports?: Array<string | { host_ip?: string; published?: string | number }>;
  healthcheck?: { test: string[] };
  environment?: Record<string, string>;
  profiles?: string[];
}

function compose(args: string[], env: Record<string, string> = SECRETS): ReturnType<typeof spawnSync> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !(k in SECRETS) && k !== 'ISPMON_BIND'),
  );
  return spawnSync('docker-compose', args, { cwd: root, encoding: 'utf8', env: { ...clean, ...env } });
}

describe('docker-compose.yml and the Dockerfile', () => {
  const rendered = compose(['--profile', 'lab', 'config']);
  const config = parse(String(rendered.stdout)) as { services: Record<string, ComposeService> };
  const services = config.services;
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const targets = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);

  it('is valid for docker-compose with every secret set', () => {
    expect(compose(['config', '-q']).status).toBe(0);
    expect(Object.keys(services).sort()).toEqual([
      'alert-router',
      'alertmanager',
      'billing',
      'exporter',
      'grafana',
      'lab',
      'notify-console',
      'postgres',
      'prometheus',
    ]);
  });

  it('refuses to start while a required secret is unset, naming it', () => {
    const r = compose(['config', '-q'], {});
    expect(r.status).not.toBe(0);
    expect(String(r.stderr)).toMatch(/set [A-Z_]+/);
  });

  it('carries no default secret: every password, key and token comes from the environment', () => {
    const text = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
    for (const name of Object.keys(SECRETS)) expect(text).toContain(`\${${name}:?set ${name}`);
    for (const m of text.matchAll(/^\s+(\w*(PASSWORD|KEY|TOKEN|SECRET)\w*): (.*)$/gm)) {
      const value = m[3] ?? '';
      if (m[1]?.startsWith('MIDTRANS_'))
        expect(value).toMatch(/^\$\{MIDTRANS_\w+:-\}$/); // optional, empty
      else
        expect({ name: m[1], value }).toEqual({
          name: m[1],
          value: expect.stringMatching(/\$\{\w+:\?[^}]+\}/),
        });
    }
  });

  it('publishes every port on 127.0.0.1 unless ISPMON_BIND says otherwise', () => {
    const published = Object.entries(services).flatMap(([name, s]) =>
      (s.ports ?? []).map((p) => ({ name, hostIp: typeof p === 'string' ? p.split(':')[0] : p.host_ip })),
    );
    expect(published.length).toBeGreaterThanOrEqual(8);
    for (const p of published) expect(p).toEqual({ name: p.name, hostIp: '127.0.0.1' });
    const opened = parse(String(compose(['config'], { ...SECRETS, ISPMON_BIND: '0.0.0.0' }).stdout)) as {
      services: Record<string, ComposeService>;
    };
    const prom = opened.services.prometheus?.ports?.[0];
    expect(typeof prom === 'string' ? prom : prom?.host_ip).toMatch(/^0\.0\.0\.0/);
  });

  it('health-checks every service', () => {
    for (const [name, s] of Object.entries(services))
      expect({ name, test: s.healthcheck?.test.length }).toEqual({ name, test: expect.any(Number) });
  });

  it('pins every image to the version the tests run (Grafana, untested here, to a release)', () => {
    const tested = {
      prometheus: /version (\d+\.\d+\.\d+)/.exec(
        execFileSync('prometheus', ['--version'], { encoding: 'utf8' }),
      )?.[1],
      alertmanager: /version (\d+\.\d+\.\d+)/.exec(
        execFileSync('prometheus-alertmanager', ['--version'], { encoding: 'utf8' }),
      )?.[1],
      postgres: /(\d+\.\d+)/.exec(execFileSync('psql', ['--version'], { encoding: 'utf8' }))?.[1],
      node: execFileSync(join(root, 'node_modules/.bin/node'), ['-v'], { encoding: 'utf8' }).trim().slice(1),
    };
    expect(services.prometheus?.image).toBe(`prom/prometheus:v${tested.prometheus}`);
    expect(services.alertmanager?.image).toBe(`prom/alertmanager:v${tested.alertmanager}`);
    expect(services.postgres?.image).toBe(`postgres:${tested.postgres}-bookworm`);
    expect(services.grafana?.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    for (const m of dockerfile.matchAll(/^FROM (node:\S+)/gm))
      expect(m[1]).toBe(`node:${tested.node}-bookworm-slim`);
    for (const [name, s] of Object.entries(services))
      if (s.build)
        expect({ name, image: s.image }).toEqual({ name, image: expect.stringMatching(/:\d+\.\d+\.\d+$/) });
  });

  it('builds every service from a target the Dockerfile defines', () => {
    for (const [name, service] of Object.entries(services)) {
      if (!service.build) continue;
      expect({ name, target: service.build.target }).toEqual({ name, target: expect.any(String) });
      expect(targets).toContain(service.build.target);
    }
  });

  it('mounts only paths that exist in the repository', () => {
    for (const service of Object.values(services)) {
      for (const volume of service.volumes ?? []) {
        const source = typeof volume === 'string' ? (volume.split(':')[0] ?? '') : (volume.source ?? '');
        if (!source.startsWith('/') || !source.startsWith(root)) continue; // named volume
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

  it('creates the inventory directory owned by node in every image that writes it', () => {
    const writers = Object.entries(services).filter(([, s]) =>
      (s.volumes ?? []).some((v) =>
        typeof v === 'string'
          ? v.startsWith('inventory:') && !v.endsWith(':ro')
          : v.source === 'inventory' && !(v as { read_only?: boolean }).read_only,
      ),
    );
    expect(writers.map(([n]) => n).sort()).toEqual(['billing', 'lab']);
    for (const [name, s] of writers) {
      const stage =
        dockerfile.split(/^FROM /m).find((b) => b.includes(` AS ${s.build?.target ?? name}`)) ?? '';
      expect({ name, chown: stage.includes('chown node:node /var/lib/ispmon/inventory') }).toEqual({
        name,
        chown: true,
      });
    }
  });

  it('names only hosts that are services of this file in every mounted configuration', () => {
    const names = new Set([...Object.keys(services), 'localhost', '127.0.0.1']);
    const files = [
      'prometheus/prometheus.yml',
      ...readdirSync(join(root, 'prometheus/components')).map((f) => `prometheus/components/${f}`),
      'alertmanager/alertmanager.yml',
      'deploy/alert-router/alert-router.yml',
      'exporter/examples/exporter.yml',
      'grafana/provisioning/datasources/ispmon.yml',
    ];
    let seen = 0;
    for (const file of files) {
      const text = readFileSync(join(root, file), 'utf8').replace(/^\s*#.*$/gm, '');
      for (const m of text.matchAll(/(?:https?:\/\/|['"[\s])([a-z][a-z0-9-]*):(\d{2,5})\b/g)) {
        seen += 1;
        expect({ file, host: m[1], known: names.has(m[1] ?? '') }).toEqual({ file, host: m[1], known: true });
      }
    }
    expect(seen).toBeGreaterThanOrEqual(8);
    for (const s of ['alertmanager', 'alert-router', 'billing', 'exporter']) {
      const file = join(root, 'prometheus/components', `${s}.json`);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual([
        { targets: [expect.stringMatching(new RegExp(`^${s}:\\d+$`))], labels: {} },
      ]);
    }
  });

  it('mounts an alert router configuration that parses, with a console channel and a policy using it', () => {
    expect(services['alert-router']?.environment?.ALERT_ROUTER_CONFIG).toBe(
      '/etc/ispmon/alert-router/alert-router.yml',
    );
    process.env.NOTIFY_CONSOLE_SECRET = 'x';
    const c = parseRouterConfig(
      readFileSync(join(root, 'deploy/alert-router/alert-router.yml'), 'utf8'),
      'alert-router.yml',
    );
    delete process.env.NOTIFY_CONSOLE_SECRET;
    expect(c.channels.get('console')).toEqual(
      expect.objectContaining({ type: 'webhook', url: 'http://notify-console:9000/notify' }),
    );
    expect(c.policies.map((p) => p.steps.flatMap((s) => s.notify))).toEqual([['console']]);
  });
});

describe('deploy/postgres/init.sql', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres();
    execFileSync(
      'psql',
      [
        server.url('postgres'),
        '-q',
        '-v',
        'alert_router_password=ar-db',
        '-v',
        'billing_password=billing-db',
        '-v',
        'grafana_password=grafana-db',
        '-f',
        join(root, 'deploy/postgres/init.sql'),
      ],
      { stdio: 'pipe' },
    );
    // The harness trusts every local connection; check passwords for the service roles, as in Compose.
    writeFileSync(
      join(server.dataDir, 'pg_hba.conf'),
      `host all ${server.user} 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n`,
    );
    await server.query('select pg_reload_conf()');
  }, 60_000);
  afterAll(async () => server?.stop());

  const as = async <T>(
    user: string,
    password: string,
    db: string,
    fn: (c: pg.Client) => Promise<T>,
  ): Promise<T> => {
    const u = new URL(server.url(db));
    u.username = user;
    u.password = password;
    const c = new pg.Client({ connectionString: u.toString() });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };

  it('gives each service its own role owning its own database, and nothing else', async () => {
    await as('alert_router', 'ar-db', 'alert_router', (c) => c.query('create table incidents (id int)'));
    await as('billing', 'billing-db', 'billing', (c) => c.query('create table invoices (id int)'));
    await expect(as('billing', 'billing-db', 'alert_router', (c) => c.query('select 1'))).rejects.toThrow(
      /permission denied/,
    );
    await expect(as('alert_router', 'ar-db', 'billing', (c) => c.query('select 1'))).rejects.toThrow(
      /permission denied/,
    );
    await expect(as('billing', 'wrong', 'billing', (c) => c.query('select 1'))).rejects.toThrow(
      /password authentication failed|authentication/,
    );
  });

  it('lets Grafana read tables the services create later, and not write them', async () => {
    await as('alert_router', 'ar-db', 'alert_router', (c) =>
      c.query('create table if not exists incident_events (id int); insert into incident_events values (1)'),
    );
    const rows = await as('grafana', 'grafana-db', 'alert_router', (c) =>
      c.query('select count(*)::int as n from incident_events'),
    );
    expect(rows.rows).toEqual([{ n: 1 }]);
    await expect(
      as('grafana', 'grafana-db', 'alert_router', (c) => c.query('insert into incident_events values (2)')),
    ).rejects.toThrow(/permission denied/);
  });
});
