// What alert history costs in PostgreSQL and what retention gives back: N alert lifecycles (fire, then
// resolve, each notified to one webhook channel and delivered by the router's own outbox) go through a
// router process (`node dist/main.js`) into a real PostgreSQL; then rows and bytes per table per 1,000
// incidents (pg_total_relation_size: heap, indexes, TOAST), the real retention purge (`purgeResolved`,
// `retention_days` 400, the clock moved 401 days on) timed with CPU (this process + PostgreSQL's
// postmaster and backends), and N more lifecycles to see whether the freed space is reused.
//
// The outbox sends one notification at a time (about 50/s on this shared 2-core machine), so the
// default of 2,000 lifecycles (4,000 notifications) keeps a run near two minutes.
// Usage: npm run bench:history -w alert-router -- [--incidents 2000] [--batch 50] [--concurrency 8]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAverage, processTreeCpuSeconds, startPostgres, waitFor } from '@ispmon/local-servers';
import { openRouterDatabase } from '../dist/db/orm.js';
import { purgeResolved } from '../dist/retention.js';
import { webhook, type AlertFixture } from '../test/fixtures.ts';
import { deliver, startRouterProcess } from './router-process.ts';

const { values: args } = parseArgs({
  options: {
    incidents: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '8' },
  },
});
const incidents = Number(args.incidents);
const batch = Number(args.batch);
const concurrency = Number(args.concurrency);
for (const [name, v] of Object.entries({ incidents, batch, concurrency }))
  if (!(Number.isInteger(v) && v > 0)) throw new Error(`--${name} must be a positive integer`);
const RETENTION_DAYS = 400;
const TABLES = [
  'incidents',
  'incident_events',
  'escalations',
  'notifications',
  'notification_attempts',
  'webhook_deliveries',
];

const pg = await startPostgres({
  settings: { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' },
});
const databaseUrl = await pg.createDatabase();
const database = databaseUrl.split('/').pop();
const sql = <R extends Record<string, unknown>>(text: string): Promise<R[]> =>
  pg.query<R>(text, [], database);
const dir = mkdtempSync(join(tmpdir(), 'ispmon-bench-history-'));
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
  `retention_days: ${RETENTION_DAYS}\nchannels:\n  sink: { type: webhook, url: "http://127.0.0.1:${sinkPort}/x", rate_limit_per_minute: 1000000 }\npolicies:\n  - name: all\n    match: { severity: critical }\n    steps: [{ notify: [sink] }]\n`,
);
const { url, child: router } = await startRouterProcess(databaseUrl, configFile);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });

const post = async (body: string): Promise<void> => void (await deliver(agent, url, body, 100));

/** Waits until each of this round's incidents has its `kind` notification and none is pending. */
async function drained(kind: 'firing' | 'resolved'): Promise<void> {
  await waitFor(
    'every notification sent',
    async () => {
      const [r] = await sql<{ n: string; k: string; s: string }>(
        `select count(*) filter (where status = 'pending')::text as n, count(*) filter (where kind = '${kind}')::text as k,
                string_agg(distinct status || '/' || kind, ',') as s from notifications`,
      );
      if (process.env.BENCH_DEBUG) console.log(r);
      // Escalations queue the notifications in their own job round, after the webhook's 200.
      return r?.n === '0' && Number(r.k) === incidents ? true : undefined;
    },
    { timeoutMs: 600_000, intervalMs: 500 },
  );
}

/** Fires `incidents` alerts in webhooks of `batch`, resolves them the same way, waits for every notification. */
async function lifecycles(round: number): Promise<number> {
  const t0 = performance.now();
  const groups = Math.ceil(incidents / batch);
  const alertsOf = (g: number, resolved: boolean): Array<Partial<AlertFixture> & { fingerprint: string }> =>
    Array.from({ length: Math.min(batch, incidents - g * batch) }, (_, i) => {
      const n = g * batch + i;
      const routerName = `r${n % 10_000}`;
      return {
        fingerprint: `${round}-${n}`,
        labels: {
          alertname: 'RouterDown',
          router: routerName,
          severity: 'critical',
          team: 'noc',
          site: 'jkt',
        },
        ...(resolved ? { status: 'resolved' as const, endsAt: '2026-11-22T04:00:00.000Z' } : {}),
      };
    });
  for (const resolved of [false, true]) {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let g = next++; g < groups; g = next++)
          await post(JSON.stringify(webhook(alertsOf(g, resolved), { groupKey: `g${round}-${g}` })));
      }),
    );
    // As in life, the firing notification goes out before the alert resolves (else it is superseded).
    await drained(resolved ? 'resolved' : 'firing');
  }
  return (performance.now() - t0) / 1000;
}

interface TableFigures {
  rows: number;
  bytes: number;
}
async function tables(): Promise<Map<string, TableFigures>> {
  const out = new Map<string, TableFigures>();
  for (const t of TABLES) {
    const [r] = await sql<{ rows: string; bytes: string }>(
      `select (select count(*) from ${t})::text as rows, pg_total_relation_size('${t}')::text as bytes`,
    );
    out.set(t, { rows: Number(r?.rows), bytes: Number(r?.bytes) });
  }
  return out;
}
const mb = (b: number): string => (b / 1_048_576).toFixed(2);
const kb = (b: number): string => (b / 1024).toFixed(0);
const sum = (m: Map<string, TableFigures>): TableFigures =>
  [...m.values()].reduce((s, f) => ({ rows: s.rows + f.rows, bytes: s.bytes + f.bytes }), {
    rows: 0,
    bytes: 0,
  });

const loadStart = loadAverage();
const wall1 = await lifecycles(1);
const sent1 = delivered;
const after1 = await tables();
const perK = 1000 / incidents;
console.log(
  `${incidents.toLocaleString('en-US')} lifecycles (fire + resolve, ${batch} alerts per webhook, ${concurrency} senders) in ${wall1.toFixed(1)} s, ${sent1.toLocaleString('en-US')} notifications delivered; load ${loadStart}`,
);
console.log('per 1,000 incidents (rows, bytes incl. indexes and TOAST, before any vacuum of ours):');
for (const [t, f] of [...after1, ['total', sum(after1)] as const])
  console.log(
    `  ${t.padEnd(22)} ${(f.rows * perK).toFixed(0).padStart(6)} rows  ${kb(f.bytes * perK).padStart(6)} KiB`,
  );

// The purge as the hourly job runs it, with the clock 401 days on: every resolved incident is older.
const postmaster = Number(readFileSync(join(pg.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
const orm = await openRouterDatabase(databaseUrl, { migrate: false });
const pg0 = processTreeCpuSeconds(postmaster);
const me0 = process.cpuUsage();
const p0 = performance.now();
const { incidents: removed, webhookDeliveries } = await purgeResolved(
  orm,
  RETENTION_DAYS,
  new Date(Date.now() + (RETENTION_DAYS + 1) * 86_400_000),
);
const purgeWall = (performance.now() - p0) / 1000;
const me = process.cpuUsage(me0);
const pgPurge = processTreeCpuSeconds(postmaster) - pg0;
const perKPurged = 1000 / removed;
console.log(
  `purgeResolved: ${removed.toLocaleString('en-US')} incidents (with their events, escalations, notifications, attempts) and ${webhookDeliveries.toLocaleString('en-US')} webhook deliveries in ${purgeWall.toFixed(2)} s; per 1,000 purged: ${(purgeWall * perKPurged * 1000).toFixed(0)} ms wall, CPU node ${(((me.user + me.system) / 1e6) * perKPurged * 1000).toFixed(0)} ms + PostgreSQL ${(pgPurge * perKPurged * 1000).toFixed(0)} ms; load ${loadAverage()}`,
);
const afterPurge = await tables();
console.log(
  `after purge: ${[...afterPurge].map(([t, f]) => `${t} ${f.rows} rows ${mb(f.bytes)} MB`).join(', ')}`,
);

const wall2 = await lifecycles(2);
const after2 = await tables();
const vacuums = await sql<{ relname: string; autovacuum_count: string; n_dead_tup: string }>(
  `select relname, autovacuum_count::text, n_dead_tup::text from pg_stat_user_tables where relname in (${TABLES.map((t) => `'${t}'`).join(', ')}) order by relname`,
);
console.log(
  `${incidents.toLocaleString('en-US')} more lifecycles in ${wall2.toFixed(1)} s; size after first ingest → after purge + second ingest (MB):`,
);
for (const t of TABLES)
  console.log(
    `  ${t.padEnd(22)} ${mb(after1.get(t)?.bytes ?? 0).padStart(7)} → ${mb(after2.get(t)?.bytes ?? 0).padStart(7)} (rows ${after2.get(t)?.rows})`,
  );
console.log(
  `  total                  ${mb(sum(after1).bytes).padStart(7)} → ${mb(sum(after2).bytes).padStart(7)}`,
);
console.log(
  `autovacuum runs so far (default settings): ${vacuums.map((v) => `${v.relname} ${v.autovacuum_count} (dead ${v.n_dead_tup})`).join(', ')}; load ${loadAverage()}`,
);

await orm.close(true);
agent.destroy();
const exited = new Promise((resolve) => router.once('exit', resolve));
router.kill('SIGTERM');
await exited;
sink.close();
await pg.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
