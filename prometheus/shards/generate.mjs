#!/usr/bin/env node
// Generates the configuration of Prometheus shard I of N from the shipped prometheus/prometheus.yml, so the
// scrape jobs exist in one place only. What changes per shard (docs/scaling.md, "Sharded scraping"):
// - every device job (the multi-target jobs whose relabelling points __address__ at the exporter) first
//   keeps only the targets whose hashmod of the target name (__address__ as file_sd gives it) is I, and
//   sends them to this shard's own exporter replica, so each router is scraped once, always by one replica;
// - `ispmon-exporter` scrapes this shard's exporter replica and `prometheus` this shard itself, so the
//   absence alerts ("unless the exporter is down") judge the replica that does the scraping;
// - the external label `ispmon_shard` tells the shards' own series apart in the global store; it is dropped
//   from alerts so an alert that several shards fire (a service down) reaches Alertmanager as one;
// - remote_write sends everything to the global query layer;
// - with --replica (shard pairs: two Prometheus with the same shard configuration), the external label
//   `ispmon_replica` names the member; it is dropped from what is remote-written and from alerts, so both
//   members write the same series (the global layer keeps one sample per scrape interval of them,
//   VictoriaMetrics's -dedup.minScrapeInterval) and send the same alerts (Alertmanager folds them).
//
//   node prometheus/shards/generate.mjs --shards 2 --shard 0 --exporter exporter-0:9436 \
//     --self prometheus-0:9090 --remote-write http://vminsert:8480/insert/0/prometheus/api/v1/write \
//     [--replica a] [--config prometheus/prometheus.yml] > prometheus-0.yml
/* global URL, structuredClone */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';

/** The exporter address device jobs use in the shipped configuration (Compose's service name). */
export const SHIPPED_EXPORTER = 'exporter:9436';
export const SHARD_LABEL = 'ispmon_shard';
export const REPLICA_LABEL = 'ispmon_replica';

const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;
const REPLICA = /^[a-z0-9][a-z0-9-]{0,31}$/;

/**
 * @param {string} baseYaml prometheus.yml text
 * @param {{ shards: number, shard: number, exporter: string, self: string, remoteWrite: string, replica?: string }} o
 * @returns {string} the shard's prometheus.yml
 */
export function shardConfig(baseYaml, o) {
  if (!Number.isInteger(o.shards) || o.shards < 1)
    throw new Error(`--shards must be a whole number ≥ 1, got ${String(o.shards)}`);
  if (!Number.isInteger(o.shard) || o.shard < 0 || o.shard >= o.shards)
    throw new Error(`--shard must be a whole number from 0 to ${o.shards - 1}, got ${String(o.shard)}`);
  for (const [flag, value] of [
    ['--exporter', o.exporter],
    ['--self', o.self],
  ])
    if (!HOST_PORT.test(value ?? ''))
      throw new Error(`${flag} must be host:port, got ${JSON.stringify(value)}`);
  if (o.replica !== undefined && !REPLICA.test(o.replica))
    throw new Error(
      `--replica must be a short lower-case name (letters, digits, '-'), got ${JSON.stringify(o.replica)}`,
    );
  let remote;
  try {
    remote = new URL(o.remoteWrite);
  } catch {
    throw new Error(`--remote-write must be an http(s) URL, got ${JSON.stringify(o.remoteWrite)}`);
  }
  if (!/^https?:$/.test(remote.protocol))
    throw new Error(`--remote-write must be an http(s) URL, got ${JSON.stringify(o.remoteWrite)}`);

  // Aliases (&multi_target) resolve to shared objects; a deep copy lets each job be edited alone.
  const config = structuredClone(parse(baseYaml));
  const jobs = config?.scrape_configs;
  if (!Array.isArray(jobs)) throw new Error('the base configuration has no scrape_configs');

  const pointsAtExporter = (job) =>
    (job.relabel_configs ?? []).some(
      (r) => r.target_label === '__address__' && r.replacement === SHIPPED_EXPORTER,
    );
  const devices = jobs.filter(pointsAtExporter);
  if (devices.length === 0)
    throw new Error(`no scrape job relabels __address__ to ${SHIPPED_EXPORTER}: nothing to shard`);
  for (const job of devices) {
    job.relabel_configs = [
      { source_labels: ['__address__'], modulus: o.shards, target_label: '__tmp_shard', action: 'hashmod' },
      { source_labels: ['__tmp_shard'], regex: String(o.shard), action: 'keep' },
      ...job.relabel_configs.map((r) =>
        r.target_label === '__address__' && r.replacement === SHIPPED_EXPORTER
          ? { ...r, replacement: o.exporter }
          : r,
      ),
    ];
  }
  const own = (name, target) => {
    const job = jobs.find((j) => j.job_name === name);
    if (!job) throw new Error(`the base configuration has no '${name}' job`);
    delete job.file_sd_configs;
    job.static_configs = [{ targets: [target] }];
  };
  own('ispmon-exporter', o.exporter);
  own('prometheus', o.self);

  config.global = config.global ?? {};
  config.global.external_labels = {
    ...config.global.external_labels,
    [SHARD_LABEL]: String(o.shard),
    ...(o.replica !== undefined ? { [REPLICA_LABEL]: o.replica } : {}),
  };
  config.alerting = config.alerting ?? {};
  config.alerting.alert_relabel_configs = [
    ...(config.alerting.alert_relabel_configs ?? []),
    { regex: o.replica !== undefined ? `${SHARD_LABEL}|${REPLICA_LABEL}` : SHARD_LABEL, action: 'labeldrop' },
  ];
  // Prometheus adds external labels before write relabelling: the members' series become one.
  config.remote_write = [
    o.replica !== undefined
      ? { url: remote.toString(), write_relabel_configs: [{ regex: REPLICA_LABEL, action: 'labeldrop' }] }
      : { url: remote.toString() },
  ];

  const member = o.replica !== undefined ? `, replica ${o.replica}` : '';
  const header =
    `# Generated by prometheus/shards/generate.mjs from prometheus/prometheus.yml: shard ${o.shard} of ${o.shards}${member}.\n` +
    '# Do not edit; change prometheus/prometheus.yml and generate again.\n';
  return header + stringify(config, { aliasDuplicateObjects: false, lineWidth: 0 });
}

function main() {
  const { values } = parseArgs({
    options: {
      shards: { type: 'string' },
      shard: { type: 'string' },
      exporter: { type: 'string' },
      self: { type: 'string' },
      'remote-write': { type: 'string' },
      replica: { type: 'string' },
      config: { type: 'string' },
    },
  });
  const here = dirname(fileURLToPath(import.meta.url));
  const file = values.config ?? join(here, '..', 'prometheus.yml');
  const whole = (v) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : Number.NaN);
  process.stdout.write(
    shardConfig(readFileSync(file, 'utf8'), {
      shards: whole(values.shards),
      shard: whole(values.shard),
      exporter: values.exporter,
      self: values.self,
      remoteWrite: values['remote-write'],
      ...(values.replica !== undefined ? { replica: values.replica } : {}),
    }),
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`generate.mjs: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
}
