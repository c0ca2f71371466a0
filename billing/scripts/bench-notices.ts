// The notice scan over N subscribers on a real PostgreSQL (three channels each): after the cycle issues N
// renewal invoices, after it marks them overdue and suspends, and idle scans (nothing new) after each.
// Usage: npm run bench:notices -w billing [-- N]   (default 100,000)
// CPU beside wall time: this process plus every PostgreSQL process of the test server (/proc/<pid>/stat).
import { loadAverage, startPostgres } from '@ispmon/local-servers';
import { parseNoticeConfig } from '../dist/notices/config.js';
import { EVENTS_SQL } from '../dist/notices/scan.js';
import { NoticeService } from '../dist/notices/service.js';
import { postgresCpuSeconds, seedSubscribers, startBenchRuntime } from './seed.ts';

const count = Number(process.argv[2] ?? 100_000);
const pg = await startPostgres();
const url = await pg.createDatabase();
const t0 = new Date('2026-03-01T03:00:00Z');
let now = t0;
const config = parseNoticeConfig(
  {
    scan_interval_seconds: 0,
    delivery_interval_seconds: 0,
    email: { smtp_url: 'smtp://127.0.0.1:9', from: 'bench@localhost' },
    sms: { url: 'http://127.0.0.1:9/sms' },
    whatsapp: { url: 'http://127.0.0.1:9/send' },
  },
  'bench',
);
let notices: NoticeService | undefined;
const runtime = await startBenchRuntime(url, {
  clock: () => now,
  extensions: (deps) => [(notices = new NoticeService(deps, { config }))],
});
const em = runtime.orm.em.fork();
const seedStart = performance.now();
// Statistics as the cycle benchmark has them (taken before the cycle runs).
await seedSubscribers(em, {
  count,
  at: t0,
  customerColumns: { email: "'c' || i || '@example.net'", phone: "'0812' || lpad(i::text, 8, '0')" },
});
await runtime.cycle.run(t0);
console.log(
  `seeded ${count.toLocaleString('en-US')} subscribers with renewal invoices in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
);

const scan = async (label: string, at: Date): Promise<void> => {
  now = at;
  const pgBefore = await postgresCpuSeconds(em);
  const nodeBefore = process.cpuUsage();
  const started = performance.now();
  const r = await (notices as NoticeService).scan(at);
  const s = (performance.now() - started) / 1000;
  const nodeUsage = process.cpuUsage(nodeBefore);
  let pgCpu = 0;
  for (const [pid, t] of await postgresCpuSeconds(em)) pgCpu += t - (pgBefore.get(pid) ?? 0);
  const nodeCpu = (nodeUsage.user + nodeUsage.system) / 1e6;
  const queued = Object.values(r.queued).reduce((a, b) => a + b, 0);
  console.log(
    `${label.padEnd(40)} ${s.toFixed(2).padStart(6)} s wall, CPU ${(nodeCpu + pgCpu).toFixed(2).padStart(6)} s (node ${nodeCpu.toFixed(2)}, PostgreSQL ${pgCpu.toFixed(2)})  queued ${queued.toLocaleString('en-US')} ${JSON.stringify(r.queued)}${queued ? `, CPU per 1,000 notices ${(((nodeCpu + pgCpu) * 1e6) / queued).toFixed(0)} ms` : ''}`,
  );
};
await scan('scan: invoices issued (3 channels)', t0);
await scan('scan again (nothing new)', t0);
const later = new Date(t0.getTime() + 10 * 86_400_000);
now = later;
const cycleStarted = performance.now();
await runtime.cycle.run(later);
console.log(`cycle: overdue + suspension in ${((performance.now() - cycleStarted) / 1000).toFixed(2)} s`);
await scan('scan: overdue + suspended', later);
await scan('scan again (nothing new)', later);
if (process.env.EXPLAIN) {
  const since = new Date(later.getTime() - 48 * 3_600_000);
  const plan = (await em.execute(
    `explain (analyze, costs off) ${EVENTS_SQL}`,
    [
      since,
      later,
      '{3}',
      later,
      later,
      3,
      later,
      since,
      '{3}',
      later,
      since,
      later,
      since,
      later,
      since,
      later,
    ],
    'all',
  )) as Array<Record<string, string>>;
  console.log(plan.map((r) => Object.values(r)[0]).join('\n'));
}
console.log(`load average ${loadAverage()}`);
await runtime.stop(1_000);
await pg.stop();
