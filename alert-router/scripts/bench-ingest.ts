// Webhook ingestion with a real PostgreSQL (fsync on), the router(s) as separate processes
// (`node dist/main.js`, production settings: jobs polling every second, each webhook waking them).
//
// Open loop (default): webhooks are offered at a fixed rate, as Alertmanagers send them whatever the
// router's speed; each one's latency runs from the moment it was due to the 2xx (a request that waited
// for a socket counts that wait; non-2xx answers are retried at once, as Alertmanager does, and the
// latency runs to the final 2xx). Closed loop (`--mode closed`): N senders back to back, for the ceiling.
// `--replicas 1,2` runs each count in turn, each on a fresh database, with the load split round-robin
// between the replicas, and prints the ratios to the single-replica run.
//
// CPU beside wall time: router processes, PostgreSQL (the postmaster with every backend, living or
// ended, from /proc/<pid>/stat) and this load generator, per 1,000 alerts.
//
// Usage: npm run bench -w alert-router -- [--mode open|closed] [--rate 1000] [--seconds 60]
//        [--warmup 10] [--batch 10] [--resend 0.2] [--concurrency 16] [--replicas 1,2] [--notify]
//        [--statements] (PostgreSQL time per statement) [--profile DIR] (the routers' V8 CPU profiles)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAverage, processTreeCpuSeconds, startPostgres, waitFor } from '@ispmon/local-servers';
import { webhook } from '../test/fixtures.ts';
import { deliver, startRouterProcess, type RouterProcess } from './router-process.ts';

const { values: args } = parseArgs({
  options: {
    mode: { type: 'string', default: 'open' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '10' },
    batch: { type: 'string', default: '10' },
    resend: { type: 'string', default: '0.2' },
    concurrency: { type: 'string', default: '16' },
    replicas: { type: 'string', default: '1' },
    notify: { type: 'boolean', default: false },
    statements: { type: 'boolean', default: false },
    profile: { type: 'string' },
  },
});
const mode = args.mode === 'closed' ? 'closed' : 'open';
const rate = Number(args.rate);
const seconds = Number(args.seconds);
const warmup = Number(args.warmup);
const batch = Number(args.batch);
const resend = Number(args.resend);
const concurrency = Number(args.concurrency);
const replicaCounts = args.replicas.split(',').map(Number);
for (const [name, v] of Object.entries({ rate, seconds, batch, concurrency }))
  if (!(v > 0)) throw new Error(`--${name} must be a positive number`);
if (!(warmup >= 0)) throw new Error('--warmup must be 0 or more seconds');
if (!(resend >= 0 && resend < 1)) throw new Error('--resend must be a fraction in [0, 1)');
if (replicaCounts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--replicas: e.g. 1 or 1,2');

type Replica = RouterProcess;

const startReplica = (databaseUrl: string, configFile: string): Promise<Replica> =>
  startRouterProcess(
    databaseUrl,
    configFile,
    args.profile ? ['--cpu-prof', '--cpu-prof-dir', args.profile] : [],
  );

async function stopReplica(r: Replica): Promise<void> {
  if (r.child.exitCode !== null) return;
  const exited = new Promise((resolve) => r.child.once('exit', resolve));
  r.child.kill('SIGTERM');
  await exited;
}

interface RunFigures {
  replicas: number;
  wall: number;
  alerts: number;
  webhooks: number;
  retries: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  routerCpu: number;
  postgresCpu: number;
  senderCpu: number;
  loadBefore: string;
  loadAfter: string;
}

const quantile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

async function run(replicaCount: number): Promise<RunFigures> {
  const pg = await startPostgres({
    settings: {
      fsync: 'on',
      synchronous_commit: 'on',
      full_page_writes: 'on',
      ...(args.statements ? { shared_preload_libraries: 'pg_stat_statements' } : {}),
    },
  });
  const databaseUrl = await pg.createDatabase();
  const database = databaseUrl.split('/').pop();
  if (args.statements) await pg.query('create extension pg_stat_statements', [], database);
  const dir = mkdtempSync(join(tmpdir(), 'ispmon-bench-'));
  let delivered = 0;
  const sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      delivered += 1;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const sinkPort = (sink.address() as { port: number }).port;
  const configFile = join(dir, 'alert-router.yml');
  writeFileSync(
    configFile,
    `channels:\n  sink: { type: webhook, url: "http://127.0.0.1:${sinkPort}/x", rate_limit_per_minute: 600 }\npolicies:\n  - name: all\n    match: { bench: notify }\n    steps: [{ notify: [sink] }]\n`,
  );
  const replicas: Replica[] = [];
  // One after the other: the first applies the migrations.
  for (let i = 0; i < replicaCount; i++) replicas.push(await startReplica(databaseUrl, configFile));
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });

  // Alertmanager resends a group's alerts (group_interval, the HA peer): `resend` of the webhooks repeat
  // an earlier one exactly; the others carry `batch` new alerts.
  let seq = 0;
  const recent: string[] = [];
  let sentAlerts = 0;
  const nextBody = (): string => {
    const old = recent.length ? recent[Math.floor(Math.random() * recent.length)] : undefined;
    if (old !== undefined && Math.random() < resend) return old;
    const group = seq;
    const alerts = Array.from({ length: batch }, () => {
      seq += 1;
      return {
        labels: { alertname: 'Bench', router: `r${seq % 1000}`, severity: 'warning' },
        annotations: { summary: 'bench' },
        startsAt: '2026-11-22T00:00:00Z',
        generatorURL: '',
        fingerprint: `fp${seq}`,
      };
    });
    const body = JSON.stringify(webhook(alerts, { groupKey: `g${group}` }));
    recent.push(body);
    if (recent.length > 200) recent.shift();
    return body;
  };

  const latencies: number[] = [];
  /** [due, latency] of every webhook, for p99 per 10 s window (warm-up and stalls show there). */
  const windows: Array<[number, number]> = [];
  let retries = 0;
  let webhooks = 0;
  let turn = 0;
  let t0 = Number.POSITIVE_INFINITY;
  const send = async (due: number): Promise<void> => {
    const body = nextBody();
    const replica = replicas[turn++ % replicas.length] as Replica;
    const measured = due >= t0;
    if (measured) {
      sentAlerts += batch;
      webhooks += 1;
    }
    const failures = await deliver(agent, replica.url, body);
    if (!measured) return;
    retries += failures;
    latencies.push(performance.now() - due);
    windows.push([due, performance.now() - due]);
  };

  const postmaster = Number(readFileSync(join(pg.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const pgCpu = (): number => processTreeCpuSeconds(postmaster);
  const routerCpu = (): number => replicas.reduce((s, r) => s + processTreeCpuSeconds(r.child.pid ?? 0), 0);
  // The measured window starts after `warmup` seconds of the same load: a router runs for months, so its
  // steady state is the figure (JIT, pool connections and PostgreSQL caches warm), not its first seconds.
  const start = performance.now();
  t0 = start + warmup * 1000;
  const end = t0 + seconds * 1000;
  let loadBefore = loadAverage();
  let cpu0 = { router: routerCpu(), pg: pgCpu(), sender: process.cpuUsage() };
  setTimeout(() => {
    loadBefore = loadAverage();
    cpu0 = { router: routerCpu(), pg: pgCpu(), sender: process.cpuUsage() };
  }, t0 - performance.now());
  if (mode === 'open') {
    const interval = (1000 * batch) / rate;
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; ; i++) {
      const due = start + i * interval;
      if (due >= end) break;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const p = send(due).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  } else {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < end) await send(performance.now());
      }),
    );
  }
  const wall = (performance.now() - Math.max(t0, start)) / 1000;
  const sender = process.cpuUsage(cpu0.sender);
  const figures: RunFigures = {
    replicas: replicaCount,
    wall,
    alerts: sentAlerts,
    webhooks,
    retries,
    ...(() => {
      latencies.sort((a, b) => a - b);
      return {
        p50: quantile(latencies, 0.5),
        p90: quantile(latencies, 0.9),
        p99: quantile(latencies, 0.99),
        max: latencies.at(-1) ?? 0,
      };
    })(),
    routerCpu: routerCpu() - cpu0.router,
    postgresCpu: pgCpu() - cpu0.pg,
    senderCpu: (sender.user + sender.system) / 1e6,
    loadBefore,
    loadAfter: loadAverage(),
  };
  const [stored] = await pg.query<{ n: string }>('select count(*) as n from incidents', [], database);
  const unique = seq;
  const perK = 1000 / figures.alerts;
  console.log(
    `${replicaCount} replica(s), ${warmup} s warm-up then ${seconds} s measured, ${mode === 'open' ? `open loop, ${rate} alerts/s offered` : `closed loop, ${concurrency} senders`}, ${batch} alerts per webhook, ${Math.round(resend * 100)} % resent; load ${loadBefore} → ${figures.loadAfter}`,
  );
  console.log(
    `  ${figures.alerts.toLocaleString('en-US')} alerts (${webhooks.toLocaleString('en-US')} webhooks) in ${wall.toFixed(1)} s = ${(figures.alerts / wall).toFixed(0)} alerts/s; send → 2xx p50 ${figures.p50.toFixed(1)} ms, p90 ${figures.p90.toFixed(1)} ms, p99 ${figures.p99.toFixed(1)} ms, max ${figures.max.toFixed(0)} ms; ${retries} non-2xx retried; incidents ${stored?.n} of ${unique} distinct alerts (${Number(stored?.n) === unique ? 'no loss' : 'LOSS'})`,
  );
  console.log(
    `  CPU per 1,000 alerts: router ${(figures.routerCpu * perK * 1000).toFixed(0)} ms, PostgreSQL ${(figures.postgresCpu * perK * 1000).toFixed(0)} ms, load generator ${(figures.senderCpu * perK * 1000).toFixed(0)} ms (router ${(figures.routerCpu / wall).toFixed(2)} cores, PostgreSQL ${(figures.postgresCpu / wall).toFixed(2)} cores busy)`,
  );

  const byWindow = new Map<number, number[]>();
  for (const [due, ms] of windows) {
    const w = Math.floor((due - t0) / 10_000);
    byWindow.set(w, [...(byWindow.get(w) ?? []), ms]);
  }
  console.log(
    `  p99 per 10 s window: ${[...byWindow.values()]
      .map((l) =>
        quantile(
          l.sort((a, b) => a - b),
          0.99,
        ).toFixed(0),
      )
      .join(', ')} ms`,
  );
  if (args.statements) {
    // Where PostgreSQL's time goes, per webhook: the statements by total execution time.
    const top = await pg.query<{ calls: string; total: number; mean: number; query: string }>(
      `select calls::text, total_exec_time as total, mean_exec_time as mean, regexp_replace(left(query, 110), '\\s+', ' ', 'g') as query
         from pg_stat_statements order by total_exec_time desc limit 12`,
      [],
      database,
    );
    for (const t of top)
      console.log(
        `  ${(Number(t.calls) / webhooks).toFixed(2).padStart(6)} per webhook, ${t.mean.toFixed(2).padStart(6)} ms mean, ${(t.total / 1000).toFixed(2).padStart(6)} s total  ${t.query}`,
      );
  }

  if (args.notify) {
    // 300 incidents for one channel limited to 600/min, delivered by the replicas' own outbox jobs.
    const alerts = Array.from({ length: 300 }, (_, i) => ({
      labels: { alertname: 'Notify', bench: 'notify', i: String(i) },
      fingerprint: `n${i}`,
    }));
    const n0 = performance.now();
    await deliver(agent, replicas[0]?.url ?? '', JSON.stringify(webhook(alerts, { groupKey: 'n' })));
    await waitFor('300 notifications', async () => (delivered >= 300 ? true : undefined), {
      timeoutMs: 120_000,
    });
    const nWall = (performance.now() - n0) / 1000;
    console.log(
      `  notifications: ${delivered} delivered in ${nWall.toFixed(2)} s = ${(delivered / nWall).toFixed(0)}/s (channel limited to 600/min per replica)`,
    );
  }

  agent.destroy();
  await Promise.all(replicas.map(stopReplica));
  sink.close();
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
  return figures;
}

const runs: RunFigures[] = [];
for (const n of replicaCounts) runs.push(await run(n));
const single = runs.find((r) => r.replicas === 1);
if (single)
  for (const r of runs.filter((x) => x.replicas > 1)) {
    const perAlert = (f: RunFigures): number => (f.routerCpu + f.postgresCpu) / f.alerts;
    console.log(
      `${r.replicas} replicas vs 1: alerts/s ×${(r.alerts / r.wall / (single.alerts / single.wall)).toFixed(2)}, p99 ×${(r.p99 / single.p99).toFixed(2)}, router+PostgreSQL CPU per alert ×${(perAlert(r) / perAlert(single)).toFixed(2)}, PostgreSQL CPU per alert ×${(r.postgresCpu / r.alerts / (single.postgresCpu / single.alerts)).toFixed(2)}`,
    );
  }
process.exit(0);
