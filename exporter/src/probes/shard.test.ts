// An exporter replica told its shard measures exactly the client links that Prometheus's `hashmod` gives
// that shard: the hash is checked against a real Prometheus, and the replica against TCP listeners that
// count who connects to them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startPrometheus, waitFor } from '@ispmon/testkit';
import { Exporter } from '../app.js';
import { hashmod, measuresTarget, parseShard } from './shard.js';

/** Link names of the shapes an inventory holds, plus a few a hash implementation could trip on. */
const NAMES = [
  ...Array.from({ length: 240 }, (_, i) => `L-${String(i).padStart(4, '0')}`),
  'core-jkt-1',
  'pppoe:budi@isp.example',
  'link ünïcödé 7',
  '',
  'a',
  'x'.repeat(300),
];

describe('the shard setting', () => {
  it('reads i/N, numbered from 0 as generate.mjs --shard, and says what is wrong otherwise', () => {
    expect(parseShard('1/2')).toEqual({ index: 1, count: 2 });
    expect(parseShard(' 0 / 1 ')).toEqual({ index: 0, count: 1 });
    expect(() => parseShard('2/2')).toThrow(/ISPMON_EXPORTER_SHARD: '2\/2': the index must be from 0 to 1/);
    expect(() => parseShard('1/0')).toThrow(/at least 1/);
    expect(() => parseShard('one of two')).toThrow(/is not a shard like 0\/2/);
    expect(() => parseShard('-1/2')).toThrow(/is not a shard like 0\/2/);
  });

  it('puts every link on exactly one replica; without a shard a replica measures all', () => {
    for (const count of [1, 2, 5]) {
      const owners = NAMES.map((name) =>
        Array.from({ length: count }, (_, index) => index).filter((index) =>
          measuresTarget({ index, count }, name),
        ),
      );
      expect(owners).toEqual(NAMES.map((name) => [hashmod(name, count)]));
    }
    expect(NAMES.every((n) => measuresTarget(undefined, n))).toBe(true);
  });
});

it('hashes as a real Prometheus does: hashmod of every name over 2, 3 and 7 shards', async () => {
  const moduli = [2, 3, 7];
  const jobs = moduli.map(
    (m) => `  - job_name: mod${m}
    scrape_interval: 1h
    static_configs: [{ targets: ${JSON.stringify(NAMES)} }]
    relabel_configs:
      - { source_labels: [__address__], target_label: link }
      - { source_labels: [__address__], modulus: ${m}, target_label: shard, action: hashmod }
      # nothing is scraped from the names themselves: a closed loopback port
      - { target_label: __address__, replacement: '127.0.0.1:9' }
`,
  );
  const prometheus = await startPrometheus({ config: `scrape_configs:\n${jobs.join('')}` });
  try {
    type Targets = { activeTargets: Array<{ labels: Record<string, string> }> };
    const targets = await waitFor(
      'every target discovered',
      async () => {
        const t = await prometheus.api<Targets>('/api/v1/targets?state=active');
        return t.activeTargets.length === NAMES.length * moduli.length ? t.activeTargets : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    let compared = 0;
    for (const { labels } of targets) {
      const modulus = Number(labels.job?.slice(3));
      expect({ link: labels.link, shard: Number(labels.shard) }).toEqual({
        link: labels.link,
        shard: hashmod(labels.link ?? '', modulus),
      });
      compared += 1;
    }
    expect(compared).toBe(NAMES.length * moduli.length);
    // the names do spread: every shard gets some
    for (const m of moduli) expect(new Set(NAMES.map((n) => hashmod(n, m))).size).toBe(m);
  } finally {
    await prometheus.stop();
  }
}, 60_000);

it('a replica of shard 1/2 measures only its links and answers 421 for the others', async () => {
  const names = Array.from({ length: 8 }, (_, i) => `link-${i}`);
  const connects = new Map<string, number>();
  const servers: Server[] = [];
  const ports = new Map<string, number>();
  for (const name of names) {
    const server = createServer((socket) => {
      connects.set(name, (connects.get(name) ?? 0) + 1);
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ports.set(name, (server.address() as { port: number }).port);
    servers.push(server);
  }
  const mine = names.filter((n) => hashmod(n, 2) === 1);
  const others = names.filter((n) => hashmod(n, 2) === 0);
  expect(mine.length).toBeGreaterThan(0);
  expect(others.length).toBeGreaterThan(0);
  const dir = mkdtempSync(join(tmpdir(), 'ispmon-shard-'));
  const probes = names
    .map(
      (n) => `    - { name: ${n}, host: 127.0.0.1, protocol: tcp, port: ${ports.get(n)}, interval: 200ms }`,
    )
    .join('\n');
  writeFileSync(join(dir, 'exporter.yml'), `listen: 127.0.0.1:0\ntargets:\n  probes:\n${probes}\n`);
  const exporter = new Exporter({
    configFile: join(dir, 'exporter.yml'),
    logger: pino({ level: 'silent' }),
    shard: { index: 1, count: 2 },
  });
  try {
    exporter.load();
    const base = `http://${await exporter.listen()}`;
    await waitFor('three connects to each of this shard’s links', async () =>
      mine.every((n) => (connects.get(n) ?? 0) >= 3) ? true : undefined,
    );
    for (const n of others) expect(connects.get(n) ?? 0).toBe(0);
    const owned = await fetch(`${base}/probe?target=${mine[0]}&module=tcp`);
    expect(owned.status).toBe(200);
    expect(
      Number(/^probe_packets_received_total (\d+)$/m.exec(await owned.text())?.[1]),
    ).toBeGreaterThanOrEqual(3);
    const misdirected = await fetch(`${base}/probe?target=${others[0]}&module=tcp`);
    expect(misdirected.status).toBe(421);
    expect(await misdirected.text()).toBe(
      `probe target '${others[0]}' is measured by the replica of shard 0/2; this one is 1/2 (ISPMON_EXPORTER_SHARD)\n`,
    );
  } finally {
    await exporter.close();
    for (const s of servers) await new Promise((resolve) => s.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}, 30_000);
