// prometheus/shards/generate.mjs, the shard configuration generator, as a user runs it. The shards it
// generates run with every other part of the system in tests/scale/cluster.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../support/paths.js';
import { generateShardConfig } from '../support/shards.js';

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
