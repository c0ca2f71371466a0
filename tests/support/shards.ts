// Set-up shared by the sharding tests (tests/scale/shards.test.ts, cluster.test.ts, pairs.test.ts): the
// shard configuration generator as a child process, a shard's configuration and rules at test speed,
// VictoriaMetrics where installed, probe targets where network namespaces can be made.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { canCreateProbeTargets, startProbeTargets, type ProbeTargets } from '@ispmon/lab';
import {
  MissingBinaryError,
  startVictoriaMetrics,
  type StartVictoriaMetricsOptions,
  type VictoriaMetricsServer,
} from '@ispmon/testkit';
import { repoRoot } from './paths.js';

const run = promisify(execFile);

/** Runs prometheus/shards/generate.mjs with `args`: its exit code and output (a failure is a result, not a throw). */
export async function generateShardConfig(
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['prometheus/shards/generate.mjs', ...args], {
      cwd: repoRoot,
    });
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: x.code ?? 1, out: x.stdout ?? '', err: x.stderr ?? '' };
  }
}

export interface TestShardOptions {
  shards: number;
  shard: number;
  /** host:port of the shard's exporter replica. */
  exporter: string;
  /** host:port of the shard's own Prometheus. */
  self: string;
  remoteWrite: string;
  /** Replaces /var/lib/ispmon/inventory (the file_sd files the shard reads). */
  inventoryDir: string;
  /** Scrape interval of every job (the shipped per-job overrides dropped), e.g. `3s`. */
  scrapeInterval: string;
  /** Scrape interval of the ispmon components' jobs (exporter, services, Prometheus, Alertmanager). */
  componentInterval: string;
  evaluationInterval: string;
}

const COMPONENT_JOBS = new Set(['ispmon-exporter', 'alert-router', 'billing', 'prometheus', 'alertmanager']);

/** Seconds of a Prometheus duration such as `2s` or `1500ms`. */
const seconds = (d: string): number =>
  d.endsWith('ms') ? Number(d.slice(0, -2)) / 1000 : Number(d.slice(0, -1));

/**
 * Shard `shard` of `shards` as prometheus/shards/generate.mjs writes it from the shipped prometheus.yml,
 * at test speed: the intervals shortened, the rules read from `{{dir}}/rules-*.yml` (see `shippedRules`),
 * remote_write batches sent within 200 ms. Component file_sd paths stay relative to the config's directory.
 */
export async function testShardConfig(o: TestShardOptions): Promise<string> {
  const g = await generateShardConfig([
    ...['--shards', String(o.shards), '--shard', String(o.shard), '--exporter', o.exporter],
    ...['--self', o.self, '--remote-write', o.remoteWrite],
  ]);
  if (g.code !== 0) throw new Error(`generate.mjs failed: ${g.err}`);
  const config = parse(g.out.replaceAll('/var/lib/ispmon/inventory', o.inventoryDir)) as {
    global: Record<string, unknown>;
    rule_files: string[];
    remote_write: Array<Record<string, unknown>>;
    scrape_configs: Array<Record<string, unknown> & { job_name: string }>;
  };
  // A scrape may take most of its interval on a loaded machine, not all of it.
  const timeout = (interval: string) => `${Math.round(seconds(interval) * 750)}ms`;
  config.global = {
    ...config.global,
    scrape_interval: o.scrapeInterval,
    scrape_timeout: timeout(o.scrapeInterval),
    evaluation_interval: o.evaluationInterval,
  };
  for (const job of config.scrape_configs) {
    delete job.scrape_interval;
    delete job.scrape_timeout;
    if (COMPONENT_JOBS.has(job.job_name)) {
      job.scrape_interval = o.componentInterval;
      job.scrape_timeout = timeout(o.componentInterval);
    }
  }
  config.rule_files = ['{{dir}}/rules-*.yml'];
  config.remote_write = config.remote_write.map((w) => ({
    ...w,
    queue_config: { batch_send_deadline: '200ms' },
  }));
  return stringify(config, { lineWidth: 0 });
}

/**
 * The shipped rule files (prometheus/rules/*.yml) as `startPrometheus` files named `rules-<file>`, with
 * the `for:` of the alerts named in `forOverrides` replaced (e.g. 2m → 6s for a test of seconds).
 */
export function shippedRules(forOverrides: Record<string, string> = {}): Record<string, string> {
  const dir = join(repoRoot, 'prometheus/rules');
  const files: Record<string, string> = {};
  for (const f of readdirSync(dir)) {
    const doc = parse(readFileSync(join(dir, f), 'utf8')) as {
      groups: Array<{ rules: Array<{ alert?: string; for?: string }> }>;
    };
    for (const rule of doc.groups.flatMap((g) => g.rules))
      if (rule.alert !== undefined && forOverrides[rule.alert] !== undefined)
        rule.for = forOverrides[rule.alert];
    files[`rules-${f}`] = stringify(doc, { lineWidth: 0 });
  }
  const missing = Object.keys(forOverrides).filter(
    (a) => !Object.values(files).some((t) => t.includes(`alert: ${a}\n`)),
  );
  if (missing.length > 0) throw new Error(`no shipped alert named ${missing.join(', ')}`);
  return files;
}

/**
 * VictoriaMetrics, or (locally, when its binary is not installed) what is missing, printed as the
 * reason `test` skips. In CI (`CI=true`) a missing binary fails.
 */
export async function startVictoriaMetricsOrSkip(
  test: string,
  options?: StartVictoriaMetricsOptions,
): Promise<{ vm: VictoriaMetricsServer; missing?: undefined } | { vm?: undefined; missing: string }> {
  try {
    return { vm: await startVictoriaMetrics(options) };
  } catch (err) {
    if (!(err instanceof MissingBinaryError) || process.env.CI === 'true') throw err;
    console.warn(`skipping ${test}: ${err.message}`);
    return { missing: err.message };
  }
}

/**
 * `count` probe targets in network namespaces, or undefined when this process cannot make them (not
 * root; the tests then probe 127.0.0.1). In CI, which runs as root, not being able to is a failure.
 */
export async function probeTargetsIfPrivileged(
  count: number,
  firstIndex: number,
): Promise<ProbeTargets | undefined> {
  if (canCreateProbeTargets()) return startProbeTargets({ count, firstIndex });
  if (process.env.CI === 'true')
    throw new Error('network namespaces for probe targets need root (CI runs as root)');
  return undefined;
}
