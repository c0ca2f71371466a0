// ispmon's SNMP if_mib against Debian's prometheus-snmp-exporter (0.21) with an equivalent module, on the
// same snmpsim devices, all as separate processes:
//   1. the recorded Cisco C3750 walk: wall time and exporter CPU per scrape, ratios ours/theirs;
//   2. values compared with snmp_exporter both ways: its default (`--snmp.wrap-large-counters`, which
//      wraps Counter64 at 2^53) and `--no-snmp.wrap-large-counters` (the exact value, as ispmon writes);
//   3. a 2,000-interface switch scraped by two concurrent clients (an HA Prometheus pair), ROUNDS rounds,
//      both with a 5 s timeout per request, 3 retries and Prometheus's default 10 s scrape timeout:
//      complete scrapes / all scrapes for each;
//   4. a closed SNMP port: how long each takes to say so.
//   A scrape counts as complete when it has every interface, and as in time when it also came back
//   within the scrape timeout (Prometheus discards a later answer; snmp_exporter 0.21 ignores the
//   timeout header and keeps walking).
// Usage: npm run bench:snmp -w exporter [-- SCRAPES [ROUNDS [SCRAPE_TIMEOUT_SECONDS]]]
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startSnmpLab } from '@ispmon/lab';
import { freePort, waitFor } from '@ispmon/local-servers';
import { IF_MIB } from '../dist/collectors/snmp/modules.js';

const scrapes = Number(process.argv[2] ?? 50);
const rounds = Number(process.argv[3] ?? 5);
const LARGE_PORTS = 2_000;
const SCRAPE_TIMEOUT_SECONDS = process.argv[4] ?? '10';
/** For reads that must complete whatever the machine's load (the value comparison). */
const PATIENT_SECONDS = '300';
const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'ispmon-bench-snmp-'));
const lab = await startSnmpLab({ snmpd: false, largeSwitchPorts: LARGE_PORTS });
const cisco = lab.endpoint('cisco-c3750');
const large = lab.endpoint('lab-switch-large');
// A UDP port nothing listens on: bound, then released.
const closedPort = await new Promise<number>((resolve) => {
  const s = createSocket('udp4');
  s.bind(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

// The same module in snmp_exporter 0.21's format (module-level version/auth), once per community.
const lookups = [
  { labels: ['ifIndex'], labelname: 'ifAlias', oid: '1.3.6.1.2.1.31.1.1.1.18', type: 'DisplayString' },
  { labels: ['ifIndex'], labelname: 'ifDescr', oid: '1.3.6.1.2.1.2.2.1.2', type: 'DisplayString' },
  { labels: ['ifIndex'], labelname: 'ifName', oid: '1.3.6.1.2.1.31.1.1.1.1', type: 'DisplayString' },
];
const theirModule = (community: string): Record<string, unknown> => ({
  walk: [...IF_MIB.metrics.map((m) => m.oid), ...lookups.map((l) => l.oid)],
  version: 2,
  auth: { community },
  max_repetitions: 25,
  // snmp_exporter's defaults, and ispmon's
  retries: 3,
  timeout: '5s',
  metrics: IF_MIB.metrics.map((m) => ({
    name: m.name,
    oid: m.oid,
    type: m.type === 'counter' ? 'counter' : 'gauge',
    help: m.help,
    indexes: [{ labelname: 'ifIndex', type: 'gauge' }],
    lookups,
  })),
});
writeFileSync(
  join(dir, 'snmp.yml'),
  stringify({
    if_mib: theirModule(cisco.community),
    if_mib_large: theirModule(large.community),
    if_mib_closed: theirModule('public'),
  }),
);
writeFileSync(
  join(dir, 'exporter.yml'),
  `targets:
  snmp:
    - { name: cisco, host: ${cisco.host}, port: ${cisco.port}, version: 2c, community: ${cisco.community}, module: if_mib, max_repetitions: 25 }
    - { name: large, host: ${large.host}, port: ${large.port}, version: 2c, community: ${large.community}, module: if_mib, max_repetitions: 25 }
    - { name: closed, host: 127.0.0.1, port: ${closedPort}, version: 2c, community: public, module: if_mib }
`,
);

const ourPort = await freePort();
const theirPort = await freePort();
const exactPort = await freePort();
const snmpExporter = (port: number, extra: string[]): ChildProcess =>
  spawn(
    'prometheus-snmp-exporter',
    [
      `--config.file=${join(dir, 'snmp.yml')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=error',
      ...extra,
    ],
    { stdio: 'ignore' },
  );
const children: ChildProcess[] = [
  spawn(process.execPath, [join(root, 'exporter/dist/main.js')], {
    stdio: 'ignore',
    env: {
      ...process.env,
      ISPMON_EXPORTER_CONFIG: join(dir, 'exporter.yml'),
      ISPMON_EXPORTER_LISTEN: `127.0.0.1:${ourPort}`,
      LOG_LEVEL: 'error',
    },
  }),
  snmpExporter(theirPort, []), // default: --snmp.wrap-large-counters
  snmpExporter(exactPort, ['--no-snmp.wrap-large-counters']),
];
const ours = (target: string): string => `http://127.0.0.1:${ourPort}/probe?target=${target}`;
const theirs = (port: number, host: string, module: string): string =>
  `http://127.0.0.1:${port}/snmp?target=${host}&module=${module}`;
const ourCisco = ours('cisco');
const theirCisco = theirs(theirPort, `${cisco.host}:${cisco.port}`, 'if_mib');
await waitFor(
  'the three exporters',
  async () =>
    (await fetch(ourCisco)).ok &&
    (await fetch(theirCisco)).ok &&
    (await fetch(theirs(exactPort, `${cisco.host}:${cisco.port}`, 'if_mib'))).ok
      ? true
      : undefined,
  { timeoutMs: 30_000, intervalMs: 200 },
);

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) / 100;
}
/** IF-MIB samples as "name{ifIndex} value", the labels both exporters share. */
function ifSamples(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(if[A-Za-z0-9]+)\{(.*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const idx = /ifIndex="(\d+)"/.exec(m[2] ?? '')?.[1];
    const alias = /ifAlias="((?:[^"\\]|\\.)*)"/.exec(m[2] ?? '')?.[1] ?? '';
    const name = /ifName="((?:[^"\\]|\\.)*)"/.exec(m[2] ?? '')?.[1] ?? '';
    out.set(`${m[1]}{ifIndex=${idx},ifName=${name},ifAlias=${alias}}`, m[3] as string);
  }
  return out;
}
async function get(url: string, timeoutSeconds = SCRAPE_TIMEOUT_SECONDS): Promise<string> {
  const res = await fetch(url, {
    headers: { 'X-Prometheus-Scrape-Timeout-Seconds': timeoutSeconds },
  });
  return res.text();
}
interface Speed {
  wallMs: number;
  cpuMs: number;
  text: string;
}
/** Scrapes both in turn, one each per step, so a change in the machine's load hits both alike. */
async function measurePair(
  a: { url: string; pid: number },
  b: { url: string; pid: number },
): Promise<[Speed, Speed]> {
  const sides = [a, b].map((x) => ({ ...x, wall: 0, cpu0: 0, text: '' }));
  for (const side of sides) side.text = await get(side.url); // warm
  for (const side of sides) side.cpu0 = cpuSeconds(side.pid);
  for (let i = 0; i < scrapes; i++) {
    for (const side of sides) {
      const t0 = performance.now();
      side.text = await get(side.url);
      side.wall += performance.now() - t0;
    }
  }
  const [x, y] = sides.map((side) => ({
    wallMs: side.wall / scrapes,
    cpuMs: ((cpuSeconds(side.pid) - side.cpu0) * 1000) / scrapes,
    text: side.text,
  }));
  return [x as Speed, y as Speed];
}
/** Samples whose values differ as Prometheus stores them (float64), and ones missing from ours. */
function compare(
  oursText: string,
  theirsText: string,
): { differing: Array<[string, string]>; missing: number; n: number } {
  const sa = ifSamples(oursText);
  const sb = ifSamples(theirsText);
  return {
    differing: [...sb].filter(([k, v]) => sa.has(k) && Number(sa.get(k)) !== Number(v)),
    missing: [...sb.keys()].filter((k) => !sa.has(k)).length,
    n: sb.size,
  };
}
const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;

try {
  // 1. speed on the recorded Cisco walk
  const [a, b] = await measurePair(
    { url: ourCisco, pid: children[0]!.pid! },
    { url: theirCisco, pid: children[1]!.pid! },
  );
  console.log(
    `1. recorded Cisco C3750 walk (snmpsim), ${ifSamples(b.text).size} IF-MIB samples per scrape, ${scrapes} scrapes each`,
  );
  console.log(`   ispmon exporter:          ${fmt(a.wallMs)} wall, ${fmt(a.cpuMs)} CPU per scrape`);
  console.log(`   prometheus-snmp-exporter: ${fmt(b.wallMs)} wall, ${fmt(b.cpuMs)} CPU per scrape`);
  console.log(
    `   ratio ours/theirs: wall ${(a.wallMs / b.wallMs).toFixed(2)}x, CPU ${(a.cpuMs / b.cpuMs).toFixed(2)}x`,
  );

  // 2. values, both ways, on the Cisco walk and on the generated switch (one Counter64 past 2^53)
  console.log('2. values against snmp_exporter, compared as float64 (as Prometheus stores them):');
  for (const [label, ourUrl, host, theirModuleName] of [
    ['Cisco C3750', ourCisco, `${cisco.host}:${cisco.port}`, 'if_mib'],
    [`generated ${LARGE_PORTS}-port switch`, ours('large'), `${large.host}:${large.port}`, 'if_mib_large'],
  ] as const) {
    const ourText = await get(ourUrl, PATIENT_SECONDS);
    for (const [mode, port] of [
      ['default --snmp.wrap-large-counters', theirPort],
      ['--no-snmp.wrap-large-counters', exactPort],
    ] as const) {
      const c = compare(ourText, await get(theirs(port, host, theirModuleName), PATIENT_SECONDS));
      console.log(
        `   ${label}, ${mode}: ${c.differing.length === 0 ? 'identical' : `${c.differing.length} differ`} (${c.n - c.missing} of ${c.n} present in ours)${
          c.differing.length
            ? `, e.g. ${c.differing
                .slice(0, 2)
                .map(([k, v]) => `${k}: theirs ${v}, ours ${ifSamples(ourText).get(k)}`)
                .join('; ')}`
            : ''
        }`,
      );
    }
  }

  // 3. a 2,000-interface switch, two concurrent clients per round
  const complete = (text: string): boolean =>
    [...ifSamples(text).keys()].filter((k) => k.startsWith('ifHCInOctets{')).length === LARGE_PORTS;
  const limitMs = Number(SCRAPE_TIMEOUT_SECONDS) * 1000;
  const pair = async (url: string): Promise<{ ok: number; inTime: number; ms: number[] }> => {
    const runs = await Promise.all(
      [0, 1].map(async () => {
        const t0 = performance.now();
        const ok = complete(await get(url));
        return { ok, ms: performance.now() - t0 };
      }),
    );
    return {
      ok: runs.filter((r) => r.ok).length,
      inTime: runs.filter((r) => r.ok && r.ms <= limitMs).length,
      ms: runs.map((r) => r.ms),
    };
  };
  const tally = {
    ours: { ok: 0, inTime: 0, ms: [] as number[], cpu: 0 },
    theirs: { ok: 0, inTime: 0, ms: [] as number[], cpu: 0 },
  };
  const theirLarge = theirs(theirPort, `${large.host}:${large.port}`, 'if_mib_large');
  for (let r = 0; r < rounds; r++) {
    // alternate who goes first, so neither always meets a warmer or busier agent
    const order = r % 2 === 0 ? (['ours', 'theirs'] as const) : (['theirs', 'ours'] as const);
    for (const who of order) {
      const pid = who === 'ours' ? children[0]!.pid! : children[1]!.pid!;
      const cpu0 = cpuSeconds(pid);
      const p = await pair(who === 'ours' ? ours('large') : theirLarge);
      tally[who].cpu += cpuSeconds(pid) - cpu0;
      tally[who].ok += p.ok;
      tally[who].inTime += p.inTime;
      tally[who].ms.push(...p.ms);
    }
  }
  console.log(
    `3. ${LARGE_PORTS}-interface switch (snmpsim), ${rounds} rounds of two concurrent scrapes, 5 s per request, 3 retries, scrape timeout ${SCRAPE_TIMEOUT_SECONDS} s:`,
  );
  for (const who of ['ours', 'theirs'] as const) {
    const t = tally[who];
    const sorted = [...t.ms].sort((x, y) => x - y);
    console.log(
      `   ${who === 'ours' ? 'ispmon exporter:         ' : 'prometheus-snmp-exporter:'} ${t.ok}/${t.ms.length} complete, ${t.inTime}/${t.ms.length} complete in time, wall median ${fmt(sorted[Math.floor(sorted.length / 2)] ?? NaN)}, max ${fmt(sorted.at(-1) ?? NaN)}, CPU ${fmt((t.cpu * 1000) / t.ms.length)} per scrape`,
    );
  }

  // 4. a closed port
  const latency = async (url: string): Promise<{ median: number; max: number; body: string }> => {
    const ms: number[] = [];
    let body = '';
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      body = await get(url);
      ms.push(performance.now() - t0);
    }
    ms.sort((x, y) => x - y);
    return { median: ms[10] ?? NaN, max: ms.at(-1) ?? NaN, body };
  };
  const oc = await latency(ours('closed'));
  const tc = await latency(theirs(theirPort, `127.0.0.1:${closedPort}`, 'if_mib_closed'));
  console.log('4. closed SNMP port, 20 scrapes each:');
  console.log(
    `   ispmon exporter:          median ${fmt(oc.median)}, max ${fmt(oc.max)} (${/snmp_scrape_error\{reason="refused"\} 1/.test(oc.body) ? 'reason="refused"' : 'NOT reported as refused'})`,
  );
  console.log(`   prometheus-snmp-exporter: median ${fmt(tc.median)}, max ${fmt(tc.max)}`);
} finally {
  for (const c of children) c.kill('SIGTERM');
  await lab.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
