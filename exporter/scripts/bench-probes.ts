// Client-link probes at scale: TARGETS ICMP targets (loopback addresses 127.0.0.x, no namespaces
// needed) at a 1 s interval in a separate exporter process. Prints how long /-/ready took, how long
// until every target had sent a probe, the probe rate per target per minute over WINDOW seconds
// (configured: 60), and the exporter's CPU per probe.
// Usage: npm run bench:probes -w exporter [-- TARGETS [WINDOW_SECONDS]]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '@ispmon/local-servers';

const targets = Number(process.argv[2] ?? 100);
const windowSeconds = Number(process.argv[3] ?? 60);
const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'ispmon-bench-probes-'));
const lines = Array.from(
  { length: targets },
  (_, i) =>
    `    - { name: L-${i}, host: 127.0.${Math.floor(i / 250)}.${1 + (i % 250)}, protocol: icmp, interval: 1s }`,
);
writeFileSync(join(dir, 'exporter.yml'), `targets:\n  probes:\n${lines.join('\n')}\n`);
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const t0 = performance.now();
const child = spawn(process.execPath, [join(root, 'exporter/dist/main.js')], {
  stdio: 'ignore',
  env: {
    ...process.env,
    ISPMON_EXPORTER_CONFIG: join(dir, 'exporter.yml'),
    ISPMON_EXPORTER_LISTEN: `127.0.0.1:${port}`,
    LOG_LEVEL: 'error',
  },
});
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) / 100;
}
/** Each target's sent count with the time it was read (reading 1,000 targets takes a while). */
async function sentAll(): Promise<Array<{ n: number; at: number }>> {
  const out: Array<{ n: number; at: number }> = [];
  for (let i = 0; i < targets; i++) {
    const text = await (await fetch(`${base}/probe?target=L-${i}`)).text();
    out.push({ n: Number(/^probe_packets_sent_total (\d+)/m.exec(text)?.[1] ?? NaN), at: performance.now() });
  }
  return out;
}
try {
  await waitFor(
    '/-/ready',
    async () => ((await fetch(`${base}/-/ready`).catch(() => undefined))?.status === 200 ? true : undefined),
    { timeoutMs: 120_000, intervalMs: 20 },
  );
  const readyMs = performance.now() - t0;
  await waitFor(
    'every target to have sent a probe',
    async () => ((await sentAll()).every((x) => x.n > 0) ? true : undefined),
    {
      timeoutMs: 600_000,
      intervalMs: 500,
    },
  );
  const allMs = performance.now() - t0;
  const cpu0 = cpuSeconds(child.pid!);
  const before = await sentAll();
  await new Promise((r) => setTimeout(r, windowSeconds * 1000));
  const after = await sentAll();
  const cpu = cpuSeconds(child.pid!) - cpu0;
  // counts are whole probes: over W seconds a rate reads ±60/W per minute from where the window falls
  const rates = after
    .map((x, i) => {
      const b = before[i] as { n: number; at: number };
      return (x.n - b.n) / ((x.at - b.at) / 60_000);
    })
    .sort((a, b) => a - b);
  const probes = after.reduce((a, x, i) => a + x.n - (before[i]?.n ?? 0), 0);
  const q = (p: number): string =>
    (rates[Math.min(rates.length - 1, Math.floor(p * rates.length))] ?? NaN).toFixed(1);
  console.log(`${targets} ICMP targets at 1 s (configured: 60 per minute), window ${windowSeconds} s`);
  console.log(
    `/-/ready ${(readyMs / 1000).toFixed(2)} s after the process was spawned; every target measuring after ${(allMs / 1000).toFixed(1)} s`,
  );
  const mean = rates.reduce((a, r) => a + r, 0) / rates.length;
  console.log(
    `probes per target per minute: mean ${mean.toFixed(2)}, min ${q(0)}, median ${q(0.5)}, max ${q(1)} (whole probes: ±${(60 / windowSeconds).toFixed(2)} from the window's phase)`,
  );
  console.log(
    `exporter CPU: ${((cpu * 1000) / probes).toFixed(3)} ms per probe (${cpu.toFixed(1)} s for ${probes} probes)`,
  );
} finally {
  child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
