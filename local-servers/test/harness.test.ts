import { createServer, type Server } from 'node:http';
import { startAlertmanager, type AlertmanagerServer } from '../src/alertmanager.js';
import { findBinary, MissingBinaryError } from '../src/binaries.js';
import { startPostgres, type PostgresServer } from '../src/postgres.js';
import { startPrometheus, type PrometheusServer } from '../src/prometheus.js';
import { waitFor } from '../src/wait.js';

describe('PostgreSQL through the harness', () => {
  let pg: PostgresServer;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await pg.stop();
  });

  it('answers a query from a real server on a loopback port', async () => {
    const rows = await pg.query<{ version: string; addr: string | null }>(
      'select version() as version, inet_server_addr()::text as addr',
    );
    expect(rows[0]?.version).toMatch(/^PostgreSQL \d+/);
    expect(rows[0]?.addr).toBe('127.0.0.1/32');
    expect(pg.port).toBeGreaterThan(1024);
  });

  it('gives every caller a fresh, empty database', async () => {
    const a = await pg.createDatabase();
    const b = await pg.createDatabase();
    expect(a).not.toBe(b);
    const dbA = a.split('/').pop();
    await pg.query('create table marker (id int)', [], dbA);
    const inB = await pg.query<{ n: string }>(
      "select count(*)::text as n from information_schema.tables where table_name = 'marker'",
      [],
      b.split('/').pop(),
    );
    expect(inB[0]?.n).toBe('0');
  });

  it('keeps committed data across a crash and a restart', async () => {
    const url = await pg.createDatabase();
    const db = url.split('/').pop();
    await pg.query('create table t (v text)', [], db);
    await pg.query("insert into t values ('kept')", [], db);
    await pg.restart();
    const rows = await pg.query<{ v: string }>('select v from t', [], db);
    expect(rows.map((r) => r.v)).toEqual(['kept']);
    await pg.crash();
    await expect(pg.query('select 1', [], db)).rejects.toThrow();
    await pg.start();
    expect(await pg.query('select 1 as one', [], db)).toEqual([{ one: 1 }]);
  });
});

describe('Prometheus through the harness', () => {
  let prom: PrometheusServer;
  let target: Server;
  let targetPort = 0;
  beforeAll(async () => {
    // A tiny exposition endpoint for Prometheus to scrape, so the test proves a real scrape happened.
    target = createServer((_req, res) => {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(
        '# HELP harness_probe_value A value served for the harness test.\n# TYPE harness_probe_value gauge\nharness_probe_value 42\n',
      );
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const address = target.address();
    targetPort = typeof address === 'object' && address ? address.port : 0;
    prom = await startPrometheus({
      config: `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: harness\n    static_configs:\n      - targets: ['127.0.0.1:${targetPort}']\n`,
    });
  }, 120_000);
  afterAll(async () => {
    await prom.stop();
    await new Promise((r) => target.close(r));
  });

  it('is ready, scrapes a target and answers PromQL', async () => {
    // the first scrape comes within one 1 s interval, later on a loaded machine
    const value = await waitFor(
      'the first scrape',
      async () => (await prom.query('harness_probe_value{job="harness"}'))[0]?.value[1],
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(value).toBe('42');
    const up = await prom.query('up{job="harness"}');
    expect(up[0]?.value[1]).toBe('1');
  });

  it('reloads a new configuration and rejects a broken one', async () => {
    await prom.reload(
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: renamed\n    static_configs:\n      - targets: ['127.0.0.1:${targetPort}']\n`,
    );
    const config = await prom.api<{ yaml: string }>('/api/v1/status/config');
    expect(config.yaml).toContain('job_name: renamed');
    await expect(prom.reload('scrape_configs: [ {job_name: 1, static_configs: nope} ]')).rejects.toThrow(
      /rejected the configuration/,
    );
  });

  it('rejects a query error', async () => {
    await expect(prom.query('sum(')).rejects.toThrow(/bad_data/);
  });
});

describe('Alertmanager through the harness', () => {
  let am: AlertmanagerServer;
  beforeAll(async () => {
    am = await startAlertmanager();
  }, 120_000);
  afterAll(async () => {
    await am.stop();
  });

  it('is ready and accepts an alert that it then lists', async () => {
    const status = await am.api<{ cluster: { status: string }; versionInfo: { version: string } }>('/status');
    expect(status.versionInfo.version).toMatch(/^\d+\.\d+/);
    await am.postAlerts([
      { labels: { alertname: 'HarnessTest', router: 'r1' }, annotations: { summary: 'x' } },
    ]);
    const alerts = await am.api<Array<{ labels: Record<string, string> }>>('/alerts');
    expect(alerts.map((a) => a.labels.alertname)).toContain('HarnessTest');
  });

  it('reloads a new configuration and rejects a broken one', async () => {
    await am.reload('route:\n  receiver: reloaded\nreceivers:\n  - name: reloaded\n');
    const status = await am.api<{ config: { original: string } }>('/status');
    expect(status.config.original).toContain('reloaded');
    await expect(am.reload('route:\n  receiver: missing\nreceivers: []\n')).rejects.toThrow(
      /rejected the configuration/,
    );
  });
});

describe('missing binaries', () => {
  it('names the Debian package to install', () => {
    expect(() => findBinary('ispmon-no-such-server', 'ispmon-pkg')).toThrow(MissingBinaryError);
    expect(() => findBinary('ispmon-no-such-server', 'ispmon-pkg')).toThrow(/apt-get install -y ispmon-pkg/);
  });
});
