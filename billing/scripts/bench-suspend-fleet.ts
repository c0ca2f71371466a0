// Suspending subscribers across a fleet of simulated MikroTik routers, end to end through billing: every
// subscriber has an overdue invoice and a live PPPoE session; one billing cycle marks them suspended, then
// router sync rounds (the real RouterSync, RouterOsGateway and RouterOS API over TCP, routers in parallel,
// each connection pipelined) move each secret to the isolation profile and remove its session. Timed from
// the cycle's start until the last router holds its change; then every router is read back: every secret
// on the isolation profile and every CPE redialled onto it.
// Target (issue 16): 10,000 subscribers across 100 routers in under 60 s.
// Usage: npm run bench:suspend-fleet -w billing -- [--routers 100] [--subscribers 10000] [--in-flight 50]
//        [--batch 5000] (subscriptions claimed per sync round)
// The simulated routers run in this process (the lab), so "node" CPU is billing and the routers together.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startRouterLab } from '@ispmon/lab';
import { loadAverage, processTreeCpuSeconds, startPostgres, waitFor } from '@ispmon/local-servers';
import { RouterOsGateway } from '../dist/provisioning/routeros-gateway.js';
import { startRuntime } from '../dist/runtime.js';
import { SecretBox } from '../dist/secrets.js';

const { values: args } = parseArgs({
  options: {
    routers: { type: 'string', default: '100' },
    subscribers: { type: 'string', default: '10000' },
    'in-flight': { type: 'string', default: '50' },
  },
});
const routerCount = Number(args.routers);
const total = Number(args.subscribers);
const perRouter = Math.ceil(total / routerCount);
const maxInFlight = Number(args['in-flight']);
if (!(routerCount > 0 && total >= routerCount && maxInFlight > 0))
  throw new Error('--routers, --subscribers (at least one per router) and --in-flight must be positive');
const fmt = (n: number): string => n.toLocaleString('en-US');
const key = '0f'.repeat(32);
const box = new SecretBox(key);
const pg = await startPostgres({
  settings: { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' },
});
const postmaster = Number(readFileSync(join(pg.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
const url = await pg.createDatabase();
const lab = await startRouterLab({
  routers: Array.from({ length: routerCount }, (_, i) => ({
    name: `nas-${String(i + 1).padStart(3, '0')}`,
    version: i % 2 ? '7.18.2' : '6.49.10',
    interfaces: 2,
    pppSessions: Math.min(perRouter, total - i * perRouter),
  })),
});
const gateway = new RouterOsGateway({ maxInFlight });
const t0 = new Date('2026-03-01T00:00:00Z');
let now = t0;
const runtime = await startRuntime({
  databaseUrl: url,
  port: 0,
  logger: pino({ level: 'warn' }),
  encryptionKey: key,
  clock: () => now,
  gateway,
  jobs: { syncMs: 0, cycleMs: 0, pollMs: 0, driftMs: 0 },
});
try {
  // Billing knows every router and every subscriber (synced, online), each with one overdue invoice.
  const em = runtime.orm.em.fork();
  await em.execute(
    `insert into plans (code, name, kind, rate_limit, price_idr, validity_days, profile)
     values ('HOME', 'Home', 'pppoe', '10M/10M', 150000, 30, 'default')`,
    [],
    'run',
  );
  const subscribers: Array<{ router: number; name: string; password: string }> = [];
  for (const [i, r] of lab.routers.entries()) {
    await em.execute(
      'insert into routers (name, host, api_port, username, password_enc) values (?, ?, ?, ?, ?)',
      [r.name, r.host, r.port, r.username, box.seal(r.password)],
      'run',
    );
    for (const s of r.secrets()) subscribers.push({ router: i + 1, name: s.name, password: s.password });
  }
  await em.execute(
    `with x as (
       select * from jsonb_to_recordset(?::jsonb) as x(router bigint, name text, password text)
     ), c as (
       insert into customers (code, name) select 'C-' || name, 'Customer ' || name from x returning id, code
     ), s as (
       insert into subscriptions (customer_id, plan_id, router_id, ppp_username, ppp_password_enc, period_start, period_end,
                                  status, sync_state, synced_version, sync_version)
       select c.id, 1, x.router, x.name, x.password, ?::timestamptz - interval '10 days', ?::timestamptz + interval '20 days',
              'active', 'synced', 1, 1
         from x join c on c.code = 'C-' || x.name
       returning id, customer_id
     )
     insert into invoices (number, customer_id, subscription_id, kind, amount_idr, period_start, period_end, issued_at, due_at,
                           status, created_by)
     select 'INV-B-' || lpad(s.id::text, 7, '0'), s.customer_id, s.id, 'first', 150000, ?::timestamptz - interval '10 days',
            ?::timestamptz + interval '20 days', ?::timestamptz - interval '15 days', ?::timestamptz - interval '10 days', 'overdue', 'bench'
       from s`,
    [
      JSON.stringify(subscribers.map((s) => ({ ...s, password: box.seal(s.password) }))),
      t0,
      t0,
      t0,
      t0,
      t0,
      t0,
    ],
    'run',
  );
  await em.execute('analyze', [], 'run');
  const online = lab.routers.reduce((n, r) => n + r.activeSessions().length, 0);
  if (online !== subscribers.length) throw new Error(`${online} of ${subscribers.length} subscribers online`);

  console.log(
    `suspending ${fmt(subscribers.length)} subscribers on ${routerCount} simulated routers (${perRouter} each), ${maxInFlight} commands in flight per router; load ${loadAverage()}`,
  );
  now = new Date(t0.getTime() + 60_000);
  const pg0 = processTreeCpuSeconds(postmaster);
  const cpu0 = process.cpuUsage();
  const sent0 = gateway.commandsSent;
  const started = performance.now();
  const report = await runtime.cycle.run(now);
  const cycleWall = (performance.now() - started) / 1000;
  let rounds = 0;
  let synced = 0;
  for (;;) {
    const r = await runtime.sync.round(now);
    if (r.claimed === 0) break;
    rounds += 1;
    synced += r.synced;
    if (r.failed) throw new Error(`${r.failed} subscriptions failed to sync`);
  }
  const wall = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const nodeCpu = (cpu.user + cpu.system) / 1e6;
  const pgCpu = processTreeCpuSeconds(postmaster) - pg0;
  const commands = gateway.commandsSent - sent0;
  if (report.subscriptionsSuspended.count !== subscribers.length || synced !== subscribers.length)
    throw new Error(`suspended ${report.subscriptionsSuspended.count}, synced ${synced}`);

  // Read back: every secret isolated, every session kicked and redialled onto the isolation profile.
  const isolated = (): number =>
    lab.routers.reduce((n, r) => n + r.activeSessions().filter((a) => a.profile === 'isolir').length, 0);
  const redial = await waitFor(
    'every CPE back online on the isolation profile',
    async () => (isolated() === subscribers.length ? performance.now() : undefined),
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  const secretsIsolated = lab.routers.reduce(
    (n, r) => n + r.secrets().filter((s) => s.profile === 'isolir').length,
    0,
  );
  if (secretsIsolated !== subscribers.length)
    throw new Error(`${secretsIsolated} of ${subscribers.length} secrets on the isolation profile`);
  const perK = 1000 / subscribers.length;
  console.log(
    `  cycle (mark suspended) ${cycleWall.toFixed(2)} s, router sync ${(wall - cycleWall).toFixed(2)} s in ${rounds} round(s), ${fmt(commands)} API commands; total ${wall.toFixed(2)} s (target < 60 s); every CPE back on isolir ${((redial - started) / 1000 - wall).toFixed(1)} s later; load ${loadAverage()}`,
  );
  console.log(
    `  CPU per 1,000 subscribers: ${((nodeCpu + pgCpu) * perK * 1000).toFixed(0)} ms (node: billing + simulated routers ${(nodeCpu * perK * 1000).toFixed(0)}, PostgreSQL ${(pgCpu * perK * 1000).toFixed(0)}); ${((nodeCpu + pgCpu) / wall).toFixed(2)} cores busy`,
  );
} finally {
  await runtime.stop(1_000);
  await lab.stop();
  await pg.stop();
}
process.exit(0);
