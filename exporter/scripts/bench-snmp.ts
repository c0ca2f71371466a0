// ispmon's SNMP if_mib against Debian's prometheus-snmp-exporter (0.21) with an equivalent module, on the
// same snmpsim device (the recorded Cisco C3750 walk): wall time per scrape and exporter CPU, as ratios
// ours/theirs, and whether every IF-MIB value is identical. Both exporters run as separate processes.
// Usage: npm run bench:snmp -w exporter [-- SCRAPES]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startSnmpLab } from '../../lab/dist/index.js';
import { freePort, waitFor } from '../../testkit/dist/index.js';
import { IF_MIB } from '../dist/collectors/snmp/modules.js';

const scrapes = Number(process.argv[2] ?? 50);
const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'ispmon-bench-snmp-'));
const lab = await startSnmpLab({ snmpd: false });
const device = lab.endpoint('cisco-c3750');

// The same module in snmp_exporter 0.21's format (module-level version/auth).
const lookups = [
  { labels: ['ifIndex'], labelname: 'ifAlias', oid: '1.3.6.1.2.1.31.1.1.1.18', type: 'DisplayString' },
  { labels: ['ifIndex'], labelname: 'ifDescr', oid: '1.3.6.1.2.1.2.2.1.2', type: 'DisplayString' },
  { labels: ['ifIndex'], labelname: 'ifName', oid: '1.3.6.1.2.1.31.1.1.1.1', type: 'DisplayString' },
];
const snmpYml = {
  if_mib: {
    walk: [...IF_MIB.metrics.map((m) => m.oid), ...lookups.map((l) => l.oid)],
    version: 2,
    auth: { community: device.community },
    max_repetitions: 25,
    retries: 0,
    timeout: '5s',
    metrics: IF_MIB.metrics.map((m) => ({
      name: m.name,
      oid: m.oid,
      type: m.type === 'counter' ? 'counter' : 'gauge',
      help: m.help,
      indexes: [{ labelname: 'ifIndex', type: 'gauge' }],
      lookups,
    })),
  },
};
writeFileSync(join(dir, 'snmp.yml'), stringify(snmpYml));
writeFileSync(
  join(dir, 'exporter.yml'),
  `targets:\n  snmp:\n    - { name: cisco, host: ${device.host}, port: ${device.port}, version: 2c, community: ${device.community}, module: if_mib, max_repetitions: 25 }\n`,
);

const ourPort = await freePort();
const theirPort = await freePort();
const children: ChildProcess[] = [
  spawn(process.execPath, [join(root, 'exporter/dist/main.js')], {
    stdio: 'ignore',
    env: {
      ...process.env,
      ISPMON_EXPORTER_CONFIG: join(dir, 'exporter.yml'),
      ISPMON_EXPORTER_LISTEN: `127.0.0.1:${ourPort}`,
      LOG_LEVEL: 'warn',
    },
  }),
  spawn(
    'prometheus-snmp-exporter',
    [
      `--config.file=${join(dir, 'snmp.yml')}`,
      `--web.listen-address=127.0.0.1:${theirPort}`,
      '--log.level=warn',
    ],
    { stdio: 'ignore' },
  ),
];
const ours = `http://127.0.0.1:${ourPort}/probe?target=cisco&module=if_mib`;
const theirs = `http://127.0.0.1:${theirPort}/snmp?target=${device.host}:${device.port}&module=if_mib`;
await waitFor(
  'both exporters',
  async () => ((await fetch(ours)).ok && (await fetch(theirs)).ok ? true : undefined),
  { timeoutMs: 20_000, intervalMs: 200 },
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
async function measure(url: string, pid: number): Promise<{ wallMs: number; cpuMs: number; text: string }> {
  await (await fetch(url)).text(); // warm
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  let text = '';
  for (let i = 0; i < scrapes; i++) text = await (await fetch(url)).text();
  return {
    wallMs: (performance.now() - t0) / scrapes,
    cpuMs: ((cpuSeconds(pid) - cpu0) * 1000) / scrapes,
    text,
  };
}
try {
  const a = await measure(ours, children[0]!.pid!);
  const b = await measure(theirs, children[1]!.pid!);
  const sa = ifSamples(a.text);
  const sb = ifSamples(b.text);
  // snmp_exporter writes values as float64 (4.364090175e+09) and rounds Counter64 past 2^53; ispmon
  // writes integers exactly. Compare as Prometheus stores them: float64.
  const differing = [...sb].filter(([k, v]) => Number(sa.get(k)) !== Number(v));
  const textEqual = [...sb].filter(([k, v]) => sa.get(k) === v).length;
  const missing = [...sb.keys()].filter((k) => !sa.has(k)).length;
  console.log(
    `device: recorded Cisco C3750 walk (snmpsim), ${sb.size} IF-MIB samples per scrape, ${scrapes} scrapes each`,
  );
  console.log(
    `ispmon exporter:          ${a.wallMs.toFixed(1)} ms wall, ${a.cpuMs.toFixed(1)} ms CPU per scrape`,
  );
  console.log(
    `prometheus-snmp-exporter: ${b.wallMs.toFixed(1)} ms wall, ${b.cpuMs.toFixed(1)} ms CPU per scrape`,
  );
  console.log(
    `ratio ours/theirs: wall ${(a.wallMs / b.wallMs).toFixed(2)}x, CPU ${(a.cpuMs / b.cpuMs).toFixed(2)}x`,
  );
  console.log(
    `values: ${differing.length === 0 ? 'identical as float64' : `${differing.length} differ`} (${sb.size - missing} of ${sb.size} of theirs present in ours; ${textEqual} also identical as text, the rest differ only in number formatting)${
      differing.length
        ? ` e.g. ${differing
            .slice(0, 3)
            .map(([k, v]) => `${k}: theirs ${v} ours ${sa.get(k)}`)
            .join('; ')}`
        : ''
    }`,
  );
} finally {
  for (const c of children) c.kill('SIGTERM');
  await lab.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
