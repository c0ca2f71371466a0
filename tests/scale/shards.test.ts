// Sharded scraping with a global query layer, with real parts: 30 simulated RouterOS routers and two
// client links → two exporter replicas → two Debian Prometheus shards configured by
// prometheus/shards/generate.mjs from the shipped prometheus.yml (intervals shortened) → remote_write to
// Debian's single-node VictoriaMetrics, and to a reference Prometheus (remote-write receiver) that gets
// the very same samples, so what the global layer answers can be compared with one Prometheus's answer.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parse, stringify } from 'yaml';
import { Exporter } from '@ispmon/exporter';
import { startRouterLab, writeInventory, type ProbeTargets, type RouterLab } from '@ispmon/lab';
import { startPrometheus, waitFor, type PrometheusServer, type VictoriaMetricsServer } from '@ispmon/testkit';
import { repoRoot } from '../support/paths.js';
import {
  generateShardConfig,
  probeTargetsIfPrivileged,
  startVictoriaMetricsOrSkip,
} from '../support/shards.js';

const ROUTERS = 30;
const SHARDS = 2;

const shardArgs = (shard: number, exporter: string, self: string, remoteWrite: string): string[] => [
  '--shards',
  String(SHARDS),
  '--shard',
  String(shard),
  '--exporter',
  exporter,
  '--self',
  self,
  '--remote-write',
  remoteWrite,
];

describe('prometheus/shards/generate.mjs', () => {
  it('refuses bad arguments with a clear message and writes nothing', async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        shardArgs(2, 'exporter-0:9436', 'p:9090', 'http://vm:8428/api/v1/write'),
        /--shard must be .* 0 to 1, got 2/,
      ],
      [
        [...shardArgs(0, 'x:1', 'p:9090', 'http://vm/'), '--shards', 'two'],
        /--shards must be a whole number/,
      ],
      [shardArgs(0, 'exporter-0', 'p:9090', 'http://vm/'), /--exporter must be host:port/],
      [shardArgs(0, 'e:1', 'p:9090', 'vm:8428'), /--remote-write must be an http\(s\) URL/],
      [[...shardArgs(0, 'e:1', 'p:9090', 'http://vm/'), '--config', 'package.json'], /no scrape_configs/],
    ];
    const results = await Promise.all(cases.map(([args]) => generateShardConfig(args)));
    for (const [i, [, message]] of cases.entries()) {
      const r = results[i]!;
      expect({ code: r.code, out: r.out, err: r.err }).toEqual({
        code: 2,
        out: '',
        err: expect.stringMatching(message),
      });
    }
  });

  it('keeps every job of prometheus.yml and shards every device job, from the file itself', async () => {
    const base = parse(readFileSync(join(repoRoot, 'prometheus/prometheus.yml'), 'utf8')) as {
      scrape_configs: Array<{ job_name: string }>;
    };
    const r = await generateShardConfig(
      shardArgs(1, 'exporter-1:9436', 'prometheus-1:9090', 'http://vm:8428/api/v1/write'),
    );
    expect(r.code).toBe(0);
    const shard = parse(r.out) as {
      global: { external_labels: Record<string, string> };
      remote_write: Array<{ url: string }>;
      scrape_configs: Array<{
        job_name: string;
        static_configs?: Array<{ targets: string[] }>;
        relabel_configs?: Array<Record<string, unknown>>;
      }>;
    };
    expect(shard.scrape_configs.map((j) => j.job_name)).toEqual(base.scrape_configs.map((j) => j.job_name));
    expect(shard.global.external_labels.ispmon_shard).toBe('1');
    expect(shard.remote_write).toEqual([{ url: 'http://vm:8428/api/v1/write' }]);
    for (const name of ['routeros', 'snmp', 'probes']) {
      const relabel = shard.scrape_configs.find((j) => j.job_name === name)?.relabel_configs ?? [];
      expect(relabel.slice(0, 2)).toEqual([
        { source_labels: ['__address__'], modulus: 2, target_label: '__tmp_shard', action: 'hashmod' },
        { source_labels: ['__tmp_shard'], regex: '1', action: 'keep' },
      ]);
      expect(relabel.at(-1)).toEqual({ target_label: '__address__', replacement: 'exporter-1:9436' });
    }
    expect(r.out).not.toContain('exporter:9436');
    const own = (job: string) => shard.scrape_configs.find((j) => j.job_name === job)?.static_configs;
    expect([own('ispmon-exporter'), own('prometheus')]).toEqual([
      [{ targets: ['exporter-1:9436'] }],
      [{ targets: ['prometheus-1:9090'] }],
    ]);
  });
});

describe('two Prometheus shards, two exporter replicas, VictoriaMetrics as the global layer', () => {
  let lab: RouterLab;
  let probes: ProbeTargets | undefined;
  const exporters: Exporter[] = [];
  const exporterAddresses: string[] = [];
  const shards: PrometheusServer[] = [];
  let reference: PrometheusServer;
  let vm: VictoriaMetricsServer | undefined;
  let missing: string | undefined;
  let dir: string;
  const links = ['L-0001', 'L-0002'];
  const routers = Array.from({ length: ROUTERS }, (_, i) => `r-${String(i + 1).padStart(3, '0')}`);

  beforeAll(async () => {
    ({ vm, missing } = await startVictoriaMetricsOrSkip('the sharding test'));
    if (missing) return;
    dir = mkdtempSync(join(tmpdir(), 'ispmon-shards-'));
    lab = await startRouterLab({
      routers: routers.map((name) => ({ name, version: '7.16.2', interfaces: 2, pppSessions: 3 })),
    });
    writeInventory(join(dir, 'inventory'), lab, 'jkt');
    // Two client links with loss, so their SLA minutes are neither all up nor all down; without network
    // namespaces (not root) the links are probes of the loopback address, which answers every probe.
    probes = await probeTargetsIfPrivileged(2, 160 + (process.pid % 25));
    probes?.targets[0]!.setLoss(0.3);
    probes?.targets[1]!.setLatency(15, 5);
    const hosts = links.map((_, i) => probes?.targets[i]?.address ?? '127.0.0.1');
    writeFileSync(
      join(dir, 'inventory/file_sd/probes.json'),
      JSON.stringify(
        links.map((link) => ({
          targets: [link],
          labels: { link, customer: 'C-1', router: 'r-001', module: 'icmp' },
        })),
      ),
    );
    const probeTargets = links
      .map(
        (link, i) =>
          `    - { name: ${link}, host: ${hosts[i]}, protocol: icmp, interval: 200ms, timeout: 1s }\n`,
      )
      .join('');
    writeFileSync(
      join(dir, 'exporter.yml'),
      `listen: 127.0.0.1:0\ndefault_timeout: 2s\ntarget_files: ['${join(dir, 'inventory')}/exporter/*.yml']\ntargets:\n  probes:\n${probeTargets}`,
    );

    // The reference: one Prometheus that receives what both shards write.
    reference = await startPrometheus({ extraArgs: ['--web.enable-remote-write-receiver'] });
    const rules: Record<string, string> = {};
    for (const f of readdirSync(join(repoRoot, 'prometheus/rules')))
      rules[`rules-${f}`] = readFileSync(join(repoRoot, 'prometheus/rules', f), 'utf8');

    for (let i = 0; i < SHARDS; i++) {
      const exporter = new Exporter({
        configFile: join(dir, 'exporter.yml'),
        logger: pino({ level: 'silent' }),
      });
      exporter.load();
      const address = await exporter.listen();
      exporters.push(exporter);
      exporterAddresses.push(address);
      const shardYaml = async (self: string): Promise<string> => {
        const g = await generateShardConfig(shardArgs(i, address, self, vm!.writeUrl));
        if (g.code !== 0) throw new Error(`generate.mjs failed: ${g.err}`);
        const config = parse(
          g.out
            .replaceAll('/var/lib/ispmon/inventory', join(dir, 'inventory'))
            .replace(/scrape_interval: \d+s/g, 'scrape_interval: 2s')
            .replace(/scrape_timeout: \d+s/g, 'scrape_timeout: 1500ms')
            .replace(/evaluation_interval: \d+s/, 'evaluation_interval: 2s')
            .replace('- rules/*.yml', '- "{{dir}}/rules-*.yml"'),
        ) as { remote_write: Array<Record<string, unknown>> };
        const queue = { batch_send_deadline: '200ms' };
        config.remote_write = [
          { ...config.remote_write[0], queue_config: queue },
          { url: `${reference.url}/api/v1/write`, queue_config: queue },
        ];
        return stringify(config);
      };
      // The shard's own address is known once it runs: start, then reload with itself as `--self`.
      const shard = await startPrometheus({ config: await shardYaml('127.0.0.1:9'), files: rules });
      await shard.reload(await shardYaml(`127.0.0.1:${shard.port}`));
      shards.push(shard);
    }
  }, 90_000);

  afterAll(async () => {
    for (const s of shards) await s.stop();
    await reference?.stop();
    for (const e of exporters) await e.close();
    await vm?.stop();
    await probes?.stop();
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const deviceJobs = '{job=~"routeros|probes"}';

  it('scrapes every router and link through exactly one shard and that shard’s own exporter', async () => {
    if (missing) return;
    const owners = await waitFor(
      'every router and link scraped',
      async () => {
        const perShard = await Promise.all(
          shards.map(async (s) =>
            (await s.query('up{job=~"routeros|probes"} == 1')).map((x) => x.metric.instance ?? ''),
          ),
        );
        return perShard.flat().length === ROUTERS + links.length ? perShard : undefined;
      },
      { timeoutMs: 45_000 },
    );
    expect(owners.flat().sort()).toEqual([...routers, ...links].sort());
    expect(owners.map((o) => o.length).every((n) => n > 0)).toBe(true);
    for (const [i, s] of shards.entries()) {
      const targets = await s.api<{
        activeTargets: Array<{ labels: Record<string, string>; scrapeUrl: string }>;
      }>('/api/v1/targets?state=active');
      const hosts = new Set(
        targets.activeTargets
          .filter((t) => /^(routeros|probes)$/.test(t.labels.job ?? ''))
          .map((t) => new URL(t.scrapeUrl).host),
      );
      // Every device target of shard i goes to exporter replica i, and to no other.
      expect([...hosts]).toEqual([exporterAddresses[i]]);
    }
  });

  it('holds every device series once in the global layer, and exactly the shards’ series', async () => {
    if (missing) return;
    const server = vm!;
    const counts = await waitFor(
      'all shard series in VictoriaMetrics',
      async () => {
        const [inShards, inVm] = await Promise.all([
          Promise.all(
            shards.map(async (s) => Number((await s.query(`count(${deviceJobs})`))[0]?.value[1] ?? 0)),
          ),
          server.query(`count(${deviceJobs})`),
        ]);
        const total = inShards.reduce((a, b) => a + b, 0);
        return total > 0 && Number(inVm[0]?.value[1]) === total ? { inShards, total } : undefined;
      },
      { timeoutMs: 45_000 },
    );
    expect(counts.inShards.every((n) => n > 0)).toBe(true);
    const up = await server.query('count by (router) (mikrotik_up)');
    expect(up.map((s) => s.metric.router).sort()).toEqual(routers);
    expect(up.every((s) => s.value[1] === '1')).toBe(true);
    // No series twice under two shard labels: every device series of the shards is in the global layer
    // once, labelled with the shard that scraped it, and nothing else is.
    const key = (m: Record<string, string>): string =>
      JSON.stringify(
        Object.entries(m)
          .filter(([k]) => k !== 'ispmon_shard' && k !== 'ispmon_cluster')
          .sort(),
      );
    const now = Math.floor(Date.now() / 1000);
    const series = async (url: string): Promise<Array<Record<string, string>>> => {
      const params = new URLSearchParams({
        'match[]': deviceJobs,
        start: String(now - 30),
        end: String(now),
      });
      const res = await fetch(`${url}/api/v1/series?${params.toString()}`);
      return ((await res.json()) as { data: Array<Record<string, string>> }).data;
    };
    // Compared again until equal (or 20 s): a series a shard has just started (a recording rule's first
    // output) may still be on its way through remote_write; the window [now − 30 s, now] stays put.
    const compare = async () => {
      const global = await series(server.url);
      const owned = await Promise.all(shards.map((s) => series(s.url)));
      const expected = new Map(owned.flatMap((list, i) => list.map((m) => [key(m), String(i)] as const)));
      const inGlobal = new Map(global.map((m) => [key(m), m.ispmon_shard]));
      const wrong = [...new Set([...expected.keys(), ...inGlobal.keys()])].filter(
        (k) => expected.get(k) !== inGlobal.get(k),
      );
      return { global, owned, expected, inGlobal, wrong };
    };
    let last = await compare();
    await waitFor(
      'the global layer holding exactly the shards’ series',
      async () => {
        if (last.wrong.length > 0) last = await compare();
        return last.wrong.length === 0 ? true : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    ).catch(() => undefined); // the assertions below say what differs
    const { global, owned, expected, inGlobal, wrong } = last;
    const keys = global.map(key);
    // The shards' external labels (prometheus.yml's ispmon_cluster, the generator's ispmon_shard) travel
    // with remote_write; the shards' own series API shows series without them.
    expect(global.every((m) => m.ispmon_cluster === 'main')).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
    expect(expected.size).toBe(owned[0]!.length + owned[1]!.length);
    expect({
      series: inGlobal.size,
      wrong: wrong.slice(0, 5).map((k) => [k, expected.get(k), inGlobal.get(k)]),
    }).toEqual({
      series: expected.size,
      wrong: [],
    });
  });

  it('answers billing’s SLA query shape through VictoriaMetrics as one Prometheus does for the same samples', async () => {
    if (missing) return;
    const server = vm!;
    // billing/src/sla/prometheus.ts's query shape (linkRatioQuery: success fraction and mean RTT of each
    // minute); billing does not export its SLA source, so the PromQL is written out here, over 10 s
    // windows instead of minutes to fit a test of seconds (the functions are the same).
    const ratio = (fn: string, num: string, den: string, link: string): string =>
      `sum by (link) (${fn}(${num}{link="${link}"}[10s])) / (sum by (link) (${fn}(${den}{link="${link}"}[10s])) > 0)`;
    const pairs = links.flatMap((link) => [
      ['probe_packets_received_total', 'probe_packets_sent_total', link] as const,
      ['probe_rtt_seconds_sum', 'probe_rtt_seconds_count', link] as const,
    ]);
    // 16 s of probe samples in both stores (counters well past their first samples), then 6 points at
    // 2 s steps over a span both hold entirely.
    const first = await waitFor(
      'probe samples in both stores',
      async () => {
        const q = 'count(probe_packets_sent_total)';
        const [a, b] = await Promise.all([server.query(q), reference.query(q)]);
        return a[0]?.value[1] === '2' && b[0]?.value[1] === '2' ? Date.now() / 1000 : undefined;
      },
      { timeoutMs: 45_000 },
    );
    await waitFor('16 s of probe data', async () => (Date.now() / 1000 > first + 16 ? true : undefined), {
      timeoutMs: 30_000,
    });
    const end = Math.floor((Date.now() / 1000 - 3) / 2) * 2;
    const start = end - 10;
    const round = (values: Array<[number, string]> = []) =>
      values.map(([t, v]) => [t, Number(Number(v).toFixed(9))]);
    const drift: string[] = [];
    for (const [num, den, link] of pairs) {
      const q = ratio('increase', num, den, link);
      const [viaProm, viaVm, viaVmPlain] = await Promise.all([
        reference.api<{ result: Array<{ values: Array<[number, string]> }> }>(
          `/api/v1/query_range?${new URLSearchParams({ query: q, start: String(start), end: String(end), step: '2' }).toString()}`,
        ),
        // MetricsQL's `increase` counts from the last sample before the window and does not extrapolate;
        // `increase_prometheus` is Prometheus's (the ratio of two extrapolated increases of one scrape is
        // the ratio of the raw deltas). billing must send this one when PROMETHEUS_URL is VictoriaMetrics.
        server.queryRange(ratio('increase_prometheus', num, den, link), start, end, 2),
        server.queryRange(q, start, end, 2),
      ]);
      expect(viaProm.result[0]?.values.length).toBe(6);
      // Equal to 1e-9 relative: the two engines sum the same floats in different orders (rounding both
      // to 9 decimals still split once at a rounding boundary: 0.002378437 vs 0.002378438).
      const vm = viaVm[0]?.values ?? [];
      const prom = viaProm.result[0]?.values ?? [];
      expect({ q, times: vm.map(([t]) => t) }).toEqual({ q, times: prom.map(([t]) => t) });
      for (const [i, [, v]] of prom.entries())
        expect(Math.abs(Number(vm[i]?.[1]) - Number(v))).toBeLessThanOrEqual(
          1e-9 * Math.max(1, Math.abs(Number(v))),
        );
      const plain = round(viaVmPlain[0]?.values);
      const ref = round(viaProm.result[0]?.values);
      const maxDiff = Math.max(
        ...ref.map(([t, v]) => Math.abs(Number(plain.find((p) => p[0] === t)?.[1] ?? NaN) - Number(v))),
      );
      drift.push(`${num.replace(/_total$|_sum$/, '')} ${link}: max |Δ| ${maxDiff.toFixed(4)}`);
    }
    console.log(`billing's query with MetricsQL's plain increase() vs Prometheus: ${drift.join('; ')}`);
  });

  it('measures series and samples/s per shard and VictoriaMetrics CPU per 1,000 samples ingested', async () => {
    if (missing) return;
    const server = vm!;
    const metric = (text: string, name: string): number =>
      [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce(
        (a, m) => a + Number(m[1]),
        0,
      );
    const before = await server.text('/metrics');
    const t0 = Date.now();
    await waitFor('5 s of ingestion', async () => (Date.now() - t0 >= 5_000 ? true : undefined), {
      timeoutMs: 10_000,
    });
    const after = await server.text('/metrics');
    const seconds = (Date.now() - t0) / 1000;
    const rows = metric(after, 'vm_rows_inserted_total') - metric(before, 'vm_rows_inserted_total');
    const cpu = metric(after, 'process_cpu_seconds_total') - metric(before, 'process_cpu_seconds_total');
    const perShard = await Promise.all(
      shards.map(async (s) => ({
        series: Number((await s.query('prometheus_tsdb_head_series'))[0]?.value[1]),
        samplesPerSecond: Number(
          (await s.query('rate(prometheus_tsdb_head_samples_appended_total[5s])'))[0]?.value[1],
        ),
      })),
    );
    const perRouter = Number((await server.query('count({job="routeros"})'))[0]?.value[1]) / ROUTERS;
    const perLink = Number((await server.query('count({job="probes"})'))[0]?.value[1]) / links.length;
    expect(rows).toBeGreaterThan(0);
    expect(perShard.every((s) => s.series > 0 && s.samplesPerSecond > 0)).toBe(true);
    console.log(
      `shards (2 s scrape interval, ${ROUTERS} routers, ${links.length} links): ` +
        perShard
          .map((s, i) => `shard ${i}: ${s.series} series, ${s.samplesPerSecond.toFixed(0)} samples/s`)
          .join('; ') +
        `; ${perRouter.toFixed(1)} series per router (2 interfaces, 3 PPP sessions), ${perLink.toFixed(1)} per link` +
        `; VictoriaMetrics: ${(rows / seconds).toFixed(0)} rows/s ingested, ${((cpu * 1000) / (rows / 1000)).toFixed(2)} ms CPU per 1,000 rows`,
    );
  });
});
