// Client-link probes at scale, side by side with smokeping_prober (Debian's prometheus-smokeping-prober):
// for each target count, the exporter and then smokeping_prober probe the same loopback addresses
// (127.0.x.y, answered by lo without namespaces) at 1 probe/s each, as separate processes. Prints per
// prober: start-up (until it answers HTTP, and until every target had a reply), probes/s and loss over the
// window, CPU per probe (the whole process tree: the exporter and its fping processes), peak RSS and Pss
// (the tree, from /proc/<pid>/smaps_rollup), and the number of processes; then the exporter's ratios to
// smokeping_prober. CPU is taken between readings, so reading 5,000 /probe pages is not counted.
// It runs in a network namespace of its own (root, as CI): its loopback carries only the bench's probes,
// and there net.ipv4.ping_group_range lets smokeping_prober use datagram ICMP sockets (`protocol: udp`,
// its unprivileged mode; `--smokeping=icmp` for raw sockets) without changing the machine's setting.
// Usage: npm run bench:probes -w exporter [-- TARGETS... [--window=SECONDS] [--only=ispmon|smokeping]
//   [--smokeping=udp|icmp]]
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findBinary, freePort, waitFor } from '@ispmon/local-servers';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    window: { type: 'string', default: '60' },
    only: { type: 'string' },
    smokeping: { type: 'string', default: 'udp' },
  },
});
const counts = (positionals.length ? positionals : ['1000', '5000']).map(Number);
const windowSeconds = Number(values.window);
if (
  counts.some((n) => !Number.isInteger(n) || n < 1 || n > 62_500) ||
  !(windowSeconds > 0) ||
  !['udp', 'icmp'].includes(values.smokeping ?? '')
) {
  console.error(
    'usage: bench-probes [TARGETS (1–62500)...] [--window=SECONDS] [--only=ispmon|smokeping] [--smokeping=udp|icmp]',
  );
  process.exit(2);
}
const NAMESPACE_ENV = 'ISPMON_BENCH_PROBES_NETNS';
if (!process.env[NAMESPACE_ENV]) {
  if (process.getuid?.() !== 0) {
    console.error('bench:probes runs in a network namespace of its own: run it as root (as CI does)');
    process.exit(2);
  }
  const ns = `ispmon-bench-probes-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  let status = 1;
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    execFileSync('ip', [
      'netns',
      'exec',
      ns,
      'sh',
      '-c',
      'echo 0 2147483647 > /proc/sys/net/ipv4/ping_group_range',
    ]);
    const run = spawnSync(
      'ip',
      ['netns', 'exec', ns, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
      {
        stdio: 'inherit',
        env: { ...process.env, [NAMESPACE_ENV]: ns },
      },
    );
    status = run.status ?? 1;
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
  process.exit(status);
}
const root = join(import.meta.dirname, '..', '..');
const hostOf = (i: number): string => `127.0.${Math.floor(i / 250)}.${1 + (i % 250)}`;

/** The process and every descendant (fping children of the exporter). */
function tree(pid: number): number[] {
  const out = [pid];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const c of children.split(' ').filter(Boolean)) out.push(...tree(Number(c)));
  }
  return out;
}
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks / 100;
}
function memoryMb(pids: number[]): { rss: number; pss: number } {
  let rss = 0;
  let pss = 0;
  for (const pid of pids) {
    try {
      const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      rss += Number(/^Rss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
      pss += Number(/^Pss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return { rss: rss / 1024, pss: pss / 1024 };
}

/** Per target: probes sent and replies received, with when they were read. */
interface Reading {
  sent: number[];
  received: number[];
  at: number[];
}

interface Prober {
  name: string;
  child: ChildProcess;
  ready(): Promise<boolean>;
  read(): Promise<Reading>;
  cleanup(): void;
}

async function get(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
  return res.text();
}

function startIspmon(n: number, port: number): Prober {
  const dir = mkdtempSync(join(tmpdir(), 'ispmon-bench-probes-'));
  const lines = Array.from(
    { length: n },
    (_, i) => `    - { name: L-${i}, host: ${hostOf(i)}, protocol: icmp, interval: 1s }`,
  );
  writeFileSync(join(dir, 'exporter.yml'), `targets:\n  probes:\n${lines.join('\n')}\n`);
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [join(root, 'exporter/dist/main.js')], {
    stdio: 'ignore',
    env: {
      ...process.env,
      ISPMON_EXPORTER_CONFIG: join(dir, 'exporter.yml'),
      ISPMON_EXPORTER_LISTEN: `127.0.0.1:${port}`,
      LOG_LEVEL: 'error',
    },
  });
  return {
    name: 'ispmon (fping)',
    child,
    ready: async () => (await fetch(`${base}/-/ready`).catch(() => undefined))?.status === 200,
    async read() {
      const r: Reading = { sent: Array(n).fill(0), received: Array(n).fill(0), at: Array(n).fill(0) };
      let next = 0;
      // 16 requests in flight: 5,000 pages in a few seconds without queueing them all at once
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < n) {
            const i = next++;
            const text = await get(`${base}/probe?target=L-${i}`);
            r.sent[i] = Number(/^probe_packets_sent_total (\d+)/m.exec(text)?.[1] ?? NaN);
            r.received[i] = Number(/^probe_packets_received_total (\d+)/m.exec(text)?.[1] ?? NaN);
            r.at[i] = performance.now();
          }
        }),
      );
      return r;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function startSmokeping(n: number, port: number, binary: string, protocol: string): Prober {
  const dir = mkdtempSync(join(tmpdir(), 'ispmon-bench-smokeping-'));
  const hosts = Array.from({ length: n }, (_, i) => `      - ${hostOf(i)}`).join('\n');
  writeFileSync(
    join(dir, 'smokeping_prober.yml'),
    `targets:\n  - interval: 1s\n    protocol: ${protocol}\n    network: ip4\n    hosts:\n${hosts}\n`,
  );
  const base = `http://127.0.0.1:${port}`;
  // protocol udp: datagram ICMP sockets, the kernel hands each socket its own replies; icmp: one raw
  // socket per target, each of which sees every reply
  const child = spawn(
    binary,
    [
      `--config.file=${join(dir, 'smokeping_prober.yml')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=error',
    ],
    { stdio: 'ignore' },
  );
  const index = new Map(Array.from({ length: n }, (_, i) => [hostOf(i), i]));
  return {
    name: `smokeping (${protocol})`,
    child,
    ready: async () => (await fetch(`${base}/metrics`).catch(() => undefined))?.status === 200,
    async read() {
      const text = await get(`${base}/metrics`);
      const at = performance.now();
      const r: Reading = { sent: Array(n).fill(0), received: Array(n).fill(0), at: Array(n).fill(at) };
      for (const m of text.matchAll(
        /^smokeping_(requests_total|response_duration_seconds_count)\{[^}]*host="([^"]+)"[^}]*\} (\S+)$/gm,
      )) {
        const i = index.get(m[2] as string);
        if (i === undefined) continue;
        (m[1] === 'requests_total' ? r.sent : r.received)[i] = Number(m[3]);
      }
      return r;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

interface Result {
  name: string;
  readyS: number;
  allAnsweredS: number | undefined;
  probesPerSecond: number;
  minPerMinute: number;
  loss: number;
  cpuMsPerProbe: number;
  cpuShare: number;
  rss: number;
  pss: number;
  processes: number;
}

async function measure(prober: Prober, n: number): Promise<Result> {
  const t0 = performance.now();
  const pid = prober.child.pid!;
  try {
    await waitFor('the prober to answer HTTP', async () => ((await prober.ready()) ? true : undefined), {
      timeoutMs: 900_000,
      intervalMs: 20,
    });
    const readyS = (performance.now() - t0) / 1000;
    let allAnsweredS: number | undefined;
    try {
      await waitFor(
        'a reply from every target',
        async () => ((await prober.read()).received.every((x) => x > 0) ? true : undefined),
        { timeoutMs: 300_000, intervalMs: 2_000 },
      );
      allAnsweredS = (performance.now() - t0) / 1000;
    } catch {
      // printed as "not within 300 s"
    }
    const before = await prober.read();
    const cpu0 = cpuSeconds(tree(pid));
    const wall0 = performance.now();
    let peak = { rss: 0, pss: 0 };
    let processes = 0;
    const end = wall0 + windowSeconds * 1000;
    while (performance.now() < end) {
      const pids = tree(pid);
      processes = Math.max(processes, pids.length);
      const m = memoryMb(pids);
      peak = { rss: Math.max(peak.rss, m.rss), pss: Math.max(peak.pss, m.pss) };
      await new Promise((r) => setTimeout(r, Math.min(5_000, Math.max(0, end - performance.now()))));
    }
    const cpu = cpuSeconds(tree(pid)) - cpu0;
    const wall = (performance.now() - wall0) / 1000;
    const after = await prober.read();
    let sent = 0;
    let received = 0;
    let rate = 0;
    const perMinute: number[] = [];
    for (let i = 0; i < n; i++) {
      const ds = (after.sent[i] ?? 0) - (before.sent[i] ?? 0);
      const seconds = ((after.at[i] ?? 0) - (before.at[i] ?? 0)) / 1000;
      sent += ds;
      received += (after.received[i] ?? 0) - (before.received[i] ?? 0);
      rate += ds / seconds;
      perMinute.push((ds / seconds) * 60);
    }
    return {
      name: prober.name,
      readyS,
      allAnsweredS,
      probesPerSecond: rate,
      minPerMinute: Math.min(...perMinute),
      loss: sent > 0 ? 1 - received / sent : NaN,
      cpuMsPerProbe: ((cpu / wall) * 1000) / rate,
      cpuShare: cpu / wall,
      ...peak,
      processes,
    };
  } finally {
    prober.child.kill('SIGTERM');
    await new Promise((r) => (prober.child.exitCode !== null ? r(undefined) : prober.child.once('exit', r)));
    prober.cleanup();
  }
}

const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
console.log(
  `bench:probes ${new Date().toISOString()}, load average ${load()}, window ${windowSeconds} s, 1 probe/s per target`,
);
const smokeping =
  values.only === 'ispmon'
    ? undefined
    : findBinary('prometheus-smokeping-prober', 'prometheus-smokeping-prober');
if (values.only !== 'smokeping') findBinary('fping', 'fping');
const header =
  'prober            | HTTP up | every target answered | probes/s (min per target /min) | loss     | CPU per probe | CPU (cores) | peak RSS | peak Pss | processes';
function print(r: Result): void {
  console.log(
    [
      r.name.padEnd(17),
      `${r.readyS.toFixed(2)} s`.padStart(7),
      (r.allAnsweredS === undefined ? 'not within 300 s' : `${r.allAnsweredS.toFixed(1)} s`).padStart(21),
      `${r.probesPerSecond.toFixed(0)} (${r.minPerMinute.toFixed(1)})`.padStart(30),
      `${(r.loss * 100).toFixed(3)} %`.padStart(8),
      `${(r.cpuMsPerProbe * 1000).toFixed(1)} µs`.padStart(13),
      r.cpuShare.toFixed(3).padStart(11),
      `${r.rss.toFixed(0)} MB`.padStart(8),
      `${r.pss.toFixed(0)} MB`.padStart(8),
      String(r.processes).padStart(9),
    ].join(' | '),
  );
}
const stopping: Prober[] = [];
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    for (const p of stopping) {
      p.child.kill('SIGKILL');
      p.cleanup();
    }
    process.exit(130);
  });
for (const n of counts) {
  console.log(`\n${n} targets (load average now ${load()}):`);
  console.log(header);
  const results: Result[] = [];
  const run = async (p: Prober): Promise<void> => {
    stopping.push(p);
    try {
      const r = await measure(p, n);
      print(r);
      results.push(r);
    } catch (err) {
      // a prober that cannot be read (smokeping_prober's /metrics at 5,000 targets took over 2 minutes once)
      console.log(`${p.name.padEnd(17)} | failed: ${(err as Error).message}`);
    } finally {
      stopping.splice(stopping.indexOf(p), 1);
    }
  };
  if (values.only !== 'smokeping') await run(startIspmon(n, await freePort()));
  if (smokeping) await run(startSmokeping(n, await freePort(), smokeping, values.smokeping ?? 'udp'));
  const [a, b] = results;
  if (a && b)
    console.log(
      `ispmon / smokeping_prober: CPU per probe ${(a.cpuMsPerProbe / b.cpuMsPerProbe).toFixed(2)}×, peak Pss ${(a.pss / b.pss).toFixed(2)}×, HTTP up ${(a.readyS / b.readyS).toFixed(2)}× (load average ${load()})`,
    );
}
process.exit(0);
