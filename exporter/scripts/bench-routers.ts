// 1,000 simulated routers (24 interfaces, 100 PPP sessions each) scraped concurrently through the
// exporter, as Prometheus would at the start of an interval. The lab and the exporter run as separate
// processes, so the exporter's CPU and peak RSS are its own. Usage: npm run bench:routers -w exporter [-- N]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const count = Number(process.argv[2] ?? 1000);
const root = join(import.meta.dirname, '..', '..');
const node = process.execPath;
const dir = mkdtempSync(join(tmpdir(), 'ispmon-bench-routers-'));

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`process exited with ${code}`)));
  });
}

function procStats(pid: number): { cpuSeconds: number; peakRssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(stat[11]) + Number(stat[12]);
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuSeconds: ticks / 100, peakRssMb: Number(hwm?.[1] ?? 0) / 1024 };
}

const lab = spawn(
  node,
  [join(root, 'lab/dist/cli.js'), '--routers', String(count), '--inventory', dir, '--json', '--churn', '0'],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
await firstLine(lab);
writeFileSync(
  join(dir, 'exporter.yml'),
  `listen: 127.0.0.1:0\ndefault_timeout: 10s\ntarget_files: ['exporter/*.yml']\n`,
);
const exporter = spawn(node, [join(root, 'exporter/dist/main.js')], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: {
    ...process.env,
    ISPMON_EXPORTER_CONFIG: join(dir, 'exporter.yml'),
    LOG_LEVEL: 'warn',
    ISPMON_EXPORTER_LISTEN: '127.0.0.1:0',
  },
});
// Children must not outlive the bench, whatever ends it (an error below, Ctrl-C).
const stopChildren = (): void => {
  for (const child of [lab, exporter]) if (child.exitCode === null) child.kill();
  rmSync(dir, { recursive: true, force: true });
};
process.once('exit', stopChildren);
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    stopChildren();
    process.exit(130);
  });
// pino's first info line carries the address; with LOG_LEVEL=warn it is suppressed, so read the port from
// /proc, waiting until the exporter listens (a loaded machine may take seconds).
const { readdirSync, readlinkSync } = await import('node:fs');
function listeningPort(pid: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /socket:\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1] as string);
    } catch {
      // fd closed meanwhile
    }
  }
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[3] === '0A' && inodes.has(f[9] ?? ''))
      return Number.parseInt((f[1] ?? '').split(':')[1] ?? '0', 16);
  }
  return 0;
}
let port = 0;
for (const deadline = Date.now() + 60_000; !port && Date.now() < deadline;)
  if (!(port = listeningPort(exporter.pid!))) await new Promise((r) => setTimeout(r, 100));
if (!port) throw new Error('the exporter did not listen within 60 s');
const base = `http://127.0.0.1:${port}`;
const names = Array.from({ length: count }, (_, i) => `router-${String(i + 1).padStart(4, '0')}`);

async function round(label: string, spreadMs = 0): Promise<void> {
  const cpu0 = procStats(exporter.pid!).cpuSeconds;
  const t0 = performance.now();
  const times: number[] = [];
  let up = 0;
  let bytes = 0;
  await Promise.all(
    names.map(async (name, i) => {
      // Prometheus spreads a job's targets over the scrape interval; spreadMs = 0 fires all at once.
      if (spreadMs) await new Promise((r) => setTimeout(r, (i * spreadMs) / count));
      const s = performance.now();
      const res = await fetch(`${base}/probe?target=${name}&module=routeros`);
      const text = await res.text();
      times.push(performance.now() - s);
      bytes += text.length;
      if (/^mikrotik_up 1$/m.test(text)) up += 1;
    }),
  );
  const wall = performance.now() - t0;
  times.sort((a, b) => a - b);
  const q = (p: number): number => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0;
  const stats = procStats(exporter.pid!);
  console.log(
    `${label}: ${count} targets in ${(wall / 1000).toFixed(2)} s wall; per target p50 ${q(0.5).toFixed(0)} ms, p99 ${q(0.99).toFixed(0)} ms; ` +
      `up ${up}/${count}; exporter CPU ${(stats.cpuSeconds - cpu0).toFixed(2)} s (${(((stats.cpuSeconds - cpu0) * 1000) / count).toFixed(2)} ms per router); exporter peak RSS ${stats.peakRssMb.toFixed(0)} MB; ${(bytes / 1e6).toFixed(1)} MB exposition`,
  );
  // A round where routers were not up measured nothing worth reporting (e.g. targets not found).
  if (up < count) {
    console.error(`${label}: only ${up} of ${count} routers up: these figures do not measure scrapes`);
    process.exitCode = 1;
  }
}

try {
  await round('scrape 1 (connect + login to every router)');
  await round('scrape 2 (connections kept open)');
  await round('scrape 3 (connections kept open)');
  await round('scrape 4 (spread over a 10 s interval, as Prometheus offsets targets)', 10_000);
} finally {
  exporter.kill('SIGTERM');
  lab.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
