import { execFile } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { startPrometheus, waitFor, type PrometheusServer } from '@ispmon/testkit';
import { repoRoot } from '../support/paths.js';

const run = promisify(execFile);

async function tool(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(cmd, args, { cwd: repoRoot });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

interface RuleFile {
  groups: Array<{
    name: string;
    rules: Array<{
      alert?: string;
      record?: string;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
    }>;
  }>;
}

const ruleFiles = readdirSync(join(repoRoot, 'prometheus/rules')).filter((f) => f.endsWith('.yml'));
const rules = ruleFiles.flatMap((f) =>
  (parse(readFileSync(join(repoRoot, 'prometheus/rules', f), 'utf8')) as RuleFile).groups.flatMap(
    (g) => g.rules,
  ),
);
const alerts = rules.filter((r) => r.alert);
/** Matches a metric name inside a PromQL expression, not as a part of a longer name. */
const metricName = (name: string): RegExp => new RegExp(`(^|[^\\w:])${name}($|[^\\w:])`);

describe('Prometheus and Alertmanager configuration', () => {
  it('passes promtool check config (which checks every rule file too)', async () => {
    const result = await tool('promtool', ['check', 'config', 'prometheus/prometheus.yml']);
    expect(result.out).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('passes promtool test rules for every alerting and recording rule', async () => {
    const result = await tool('promtool', [
      'test',
      'rules',
      'prometheus/tests/alerts.test.yml',
      'prometheus/tests/recording.test.yml',
    ]);
    expect(result.out).not.toContain('FAILED');
    expect(result.code).toBe(0);
  }, 120_000);

  it('has a firing and a quiet unit test for every alert, and the generated test file is current', async () => {
    const tests = readFileSync(join(repoRoot, 'prometheus/tests/alerts.test.yml'), 'utf8');
    const checks = (
      parse(tests) as {
        tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
      }
    ).tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const a of alerts) {
      const mine = checks.filter((c) => c.alertname === a.alert);
      expect({
        alert: a.alert,
        fires: mine.some((c) => c.exp_alerts.length > 0),
        quiet: mine.some((c) => c.exp_alerts.length === 0),
      }).toEqual({ alert: a.alert, fires: true, quiet: true });
    }
    const out = join(mkdtempSync(join(tmpdir(), 'ispmon-alert-tests-')), 'alerts.test.yml');
    await run(process.execPath, ['prometheus/tests/generate-alert-tests.mjs', out], { cwd: repoRoot });
    expect(readFileSync(out, 'utf8')).toBe(tests);
    rmSync(dirname(out), { recursive: true, force: true });
  });

  it('tests every recording rule (SLA, interface, router) against hand-computed values', async () => {
    const tests = (
      parse(readFileSync(join(repoRoot, 'prometheus/tests/recording.test.yml'), 'utf8')) as {
        tests: Array<{ promql_expr_test?: Array<{ expr: string; exp_samples: Array<{ value: unknown }> }> }>;
      }
    ).tests.flatMap((t) => t.promql_expr_test ?? []);
    const recorded = rules.filter((x) => x.record && !x.record.startsWith('ispmon:threshold:'));
    expect(recorded.length).toBeGreaterThanOrEqual(17);
    // Each rule is read by a test expression (as a metric name, not a substring of another) that expects
    // numbers…
    for (const r of recorded) {
      const name = metricName(r.record ?? '');
      const valued = tests.filter(
        (t) =>
          name.test(t.expr) &&
          t.exp_samples.length > 0 &&
          t.exp_samples.every((x) => Number.isFinite(Number(x.value))),
      );
      expect({ record: r.record, valued: valued.length > 0 }).toEqual({ record: r.record, valued: true });
    }
    // …and the values are compared: with every rule's result changed (×2 + 1), each rule's own test
    // expressions fail in promtool.
    const tmp = mkdtempSync(join(tmpdir(), 'ispmon-recording-mutants-'));
    try {
      mkdirSync(join(tmp, 'rules'));
      mkdirSync(join(tmp, 'tests'));
      for (const f of ruleFiles) {
        const file = parse(readFileSync(join(repoRoot, 'prometheus/rules', f), 'utf8')) as {
          groups: Array<{ rules: Array<{ record?: string; expr: string }> }>;
        };
        for (const g of file.groups)
          for (const x of g.rules)
            if (recorded.some((r) => r.record === x.record)) x.expr = `(${x.expr}) * 2 + 1`;
        writeFileSync(join(tmp, 'rules', f), stringify(file));
      }
      copyFileSync(
        join(repoRoot, 'prometheus/tests/recording.test.yml'),
        join(tmp, 'tests/recording.test.yml'),
      );
      const result = await tool('promtool', ['test', 'rules', join(tmp, 'tests/recording.test.yml')]);
      expect(result.code).not.toBe(0);
      const failed = [...result.out.matchAll(/expr: "(.*)", time:/g)].map((m) => m[1] ?? '');
      const survivors = recorded
        .map((r) => r.record ?? '')
        .filter((record) => !failed.some((e) => metricName(record).test(e)));
      expect(survivors).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 120_000);

  it('gives every alert severity, team, summary, description, runbook and dashboard', () => {
    for (const a of alerts) {
      expect({
        alert: a.alert,
        severity: ['critical', 'warning', 'info'].includes(a.labels?.severity ?? ''),
      }).toEqual({ alert: a.alert, severity: true });
      expect(Object.keys(a.labels ?? {})).toContain('team');
      expect(Object.keys(a.annotations ?? {}).sort()).toEqual([
        'dashboard',
        'description',
        'runbook_url',
        'summary',
      ]);
      const runbook =
        /prometheus\/runbooks\/(\w+\.md)$/.exec(a.annotations?.runbook_url ?? '')?.[1] ?? 'missing';
      expect(readdirSync(join(repoRoot, 'prometheus/runbooks'))).toContain(runbook);
    }
  });

  it('passes amtool check-config and routes every alert to the alert router with send_resolved', async () => {
    const result = await tool('amtool', ['check-config', 'alertmanager/alertmanager.yml']);
    expect(result.out).toContain('SUCCESS');
    expect(result.code).toBe(0);
    const config = parse(readFileSync(join(repoRoot, 'alertmanager/alertmanager.yml'), 'utf8')) as {
      receivers: Array<{ name: string; webhook_configs?: Array<{ url: string; send_resolved: boolean }> }>;
    };
    expect(config.receivers).toEqual([
      {
        name: 'alert-router',
        webhook_configs: [
          expect.objectContaining({
            url: 'http://alert-router:8080/webhook/alertmanager',
            send_resolved: true,
          }),
        ],
      },
    ]);
  });

  it('routes a critical router alert to the alert router (amtool config routes test)', async () => {
    const critical = await tool('amtool', [
      'config',
      'routes',
      'test',
      '--config.file=alertmanager/alertmanager.yml',
      '--verify.receivers=alert-router',
      'alertname=RouterDown',
      'severity=critical',
      'router=core-1',
    ]);
    expect(critical.code).toBe(0);
  });
});

describe('the commented hashmod sharding example in prometheus.yml', () => {
  let prom: PrometheusServer | undefined;
  afterAll(async () => {
    await prom?.stop();
  });

  it('scrapes every router exactly once over two shards, each through its own exporter', async () => {
    const text = readFileSync(join(repoRoot, 'prometheus/prometheus.yml'), 'utf8');
    const lines = text.split('\n');
    const from = lines.findIndex((l) => l.includes('# - job_name: routeros-shard-0'));
    const to = lines.findIndex((l, i) => i > from && l.includes('replacement: exporter-0:9436'));
    expect([from > 0, to > from]).toEqual([true, true]);
    const shard0 = lines
      .slice(from, to + 1)
      .map((l) => l.replace(/^ {2}# ?/, '  '))
      .join('\n')
      .replace('/var/lib/ispmon/inventory/file_sd', '{{dir}}')
      .replace('exporter-0:9436', '127.0.0.1:9');
    const shard1 = shard0
      .replace('routeros-shard-0', 'routeros-shard-1')
      .replace("regex: '0'", "regex: '1'")
      .replace('127.0.0.1:9', '127.0.0.1:19');
    const routers = Array.from({ length: 20 }, (_, i) => `r-${String(i).padStart(2, '0')}`);
    prom = await startPrometheus({
      config: `global:\n  scrape_interval: 1m\nscrape_configs:\n${shard0}\n${shard1}\n`,
      files: {
        'routeros.json': JSON.stringify(
          routers.map((r) => ({ targets: [r], labels: { router: r, site: 'jkt', module: 'routeros' } })),
        ),
      },
    });
    const server = prom;
    const active = await waitFor(
      'both shards discovered',
      async () => {
        const t = await server.api<{
          activeTargets: Array<{ labels: Record<string, string>; scrapeUrl: string }>;
        }>('/api/v1/targets?state=active');
        return t.activeTargets.length === routers.length ? t.activeTargets : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(active.map((t) => t.labels.router).sort()).toEqual(routers);
    const perShard = new Map<string, number>();
    for (const t of active) {
      const url = new URL(t.scrapeUrl);
      expect({
        router: t.labels.router,
        instance: t.labels.instance,
        target: url.searchParams.get('target'),
        module: url.searchParams.get('module'),
        moduleLabel: t.labels.module,
      }).toEqual({
        router: t.labels.router,
        instance: t.labels.router,
        target: t.labels.router,
        module: 'routeros',
        moduleLabel: undefined,
      });
      expect(`${t.labels.job} ${url.host}`).toMatch(
        /^routeros-shard-0 127\.0\.0\.1:9$|^routeros-shard-1 127\.0\.0\.1:19$/,
      );
      perShard.set(t.labels.job ?? '', (perShard.get(t.labels.job ?? '') ?? 0) + 1);
    }
    expect(perShard.get('routeros-shard-0')).toBeGreaterThan(0);
    expect(perShard.get('routeros-shard-1')).toBeGreaterThan(0);
  });
});

describe('Grafana dashboards', () => {
  const dir = join(repoRoot, 'grafana/dashboards');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  const allowed = new Set([
    'timeseries',
    'stat',
    'table',
    'bargauge',
    'gauge',
    'text',
    'row',
    'piechart',
    'state-timeline',
  ]);

  it('are valid Grafana 11+ dashboards with unique uids and modern panel types', () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
    const uids = new Set<string>();
    for (const f of files) {
      const d = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
        uid: string;
        schemaVersion: number;
        panels: Array<{ type: string; id: number; gridPos: object; targets: unknown[] }>;
      };
      expect(d.schemaVersion).toBeGreaterThanOrEqual(39);
      expect(uids.has(d.uid)).toBe(false);
      uids.add(d.uid);
      for (const p of d.panels) {
        expect({ file: f, type: p.type, allowed: allowed.has(p.type) }).toEqual({
          file: f,
          type: p.type,
          allowed: true,
        });
        expect(p.targets.length).toBeGreaterThan(0);
      }
    }
  });

  it('use only datasources that the provisioning defines, and the provider reads their directory', () => {
    const provisioned = parse(
      readFileSync(join(repoRoot, 'grafana/provisioning/datasources/ispmon.yml'), 'utf8'),
    ) as { datasources: Array<{ uid: string; type: string }> };
    const types = new Map(provisioned.datasources.map((d) => [d.uid, d.type]));
    let references = 0;
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const m of text.matchAll(/"datasource": \{\s*"type": "([^"]+)",\s*"uid": "([^"]+)"/g)) {
        references += 1;
        expect({ file: f, uid: m[2], type: types.get(m[2] ?? '') }).toEqual({
          file: f,
          uid: m[2],
          type: m[1],
        });
      }
    }
    expect(references).toBeGreaterThan(50);
    const provider = parse(
      readFileSync(join(repoRoot, 'grafana/provisioning/dashboards/ispmon.yml'), 'utf8'),
    ) as { providers: Array<{ options: { path: string } }> };
    const compose = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8');
    expect(compose).toContain(`./grafana/dashboards:${provider.providers[0]?.options.path}`);
  });

  it('are what alert annotations and panel data links point at, with the variables they set', () => {
    const vars = new Map<string, string[]>();
    const links: string[] = [];
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      const d = JSON.parse(text) as { uid: string; templating?: { list: Array<{ name: string }> } };
      vars.set(
        d.uid,
        (d.templating?.list ?? []).map((v) => v.name),
      );
      for (const m of text.matchAll(/"url": "(\/d\/[^"]+)"/g)) links.push(m[1] ?? '');
    }
    for (const a of alerts) links.push(a.annotations?.dashboard ?? 'missing');
    expect(links.length).toBeGreaterThan(alerts.length);
    for (const link of links) {
      const m = /^\/d\/([\w-]+)(?:\?(.*))?$/.exec(link);
      const uid = m?.[1] ?? '';
      const params = [...new URLSearchParams(m?.[2] ?? '').keys()]
        .filter((k) => k.startsWith('var-'))
        .map((k) => k.slice(4));
      expect({ link, known: vars.has(uid), params }).toEqual({
        link,
        known: true,
        params: params.filter((p) => vars.get(uid)?.includes(p)),
      });
    }
  });

  it('are what the typed builders produce (edit grafana/src/dashboards.ts, not the JSON)', async () => {
    // Generated into a temporary directory: other test files read the committed dashboards meanwhile.
    const out = mkdtempSync(join(tmpdir(), 'ispmon-dashboards-'));
    await run(process.execPath, ['grafana/src/generate.ts', out], { cwd: repoRoot });
    expect(readdirSync(out).sort()).toEqual([...files].sort());
    expect(files.map((f) => readFileSync(join(out, f), 'utf8'))).toEqual(
      files.map((f) => readFileSync(join(dir, f), 'utf8')),
    );
    rmSync(out, { recursive: true, force: true });
  });
});
