// The billing cycle over N subscriptions (default 100,000) on a real PostgreSQL with fsync on: renewal
// invoices for all, then overdue + suspension for all, then an idle run. Target (issue 16): 1,000,000 in
// under 3 minutes for issuing + suspending.
// Usage: npm run bench:cycle -w billing -- [N | --subscriptions N] [--skip-dry-run] [--max-wal-size 1GB]
// CPU beside wall time: this process (process.cpuUsage) plus every PostgreSQL process of the test server
// (backends and background workers from pg_stat_activity, utime+stime from /proc/<pid>/stat). On a
// shared machine a statement gets only its share of a core: CPU per 1,000 subscriptions is the figure
// that shows the headroom, wall time the one that was met or not at that load average.
import { parseArgs } from 'node:util';
import { loadAverage, startPostgres } from '@ispmon/local-servers';
import { postgresCpuSeconds, seedSubscribers, startBenchRuntime } from './seed.ts';

const { values: args, positionals } = parseArgs({
  options: {
    subscriptions: { type: 'string' },
    'skip-dry-run': { type: 'boolean', default: false },
    /** PostgreSQL's max_wal_size (default 1GB): a million-row cycle writes several GB of WAL. */
    'max-wal-size': { type: 'string', default: '1GB' },
  },
  allowPositionals: true,
});
const count = Number(args.subscriptions ?? positionals[0] ?? 100_000);
if (!(Number.isInteger(count) && count > 0)) throw new Error('--subscriptions must be a positive integer');
const pg = await startPostgres({
  settings: {
    fsync: 'on',
    synchronous_commit: 'on',
    full_page_writes: 'on',
    max_wal_size: args['max-wal-size'],
  },
});
const url = await pg.createDatabase();
const t0 = new Date('2026-03-01T00:00:00Z');
let now = t0;
const runtime = await startBenchRuntime(url, { clock: () => now });
const em = runtime.orm.em.fork();
const seedStart = performance.now();
await seedSubscribers(em, { count, at: t0, customerColumns: { suspension_exempt: 'i % 50 = 0' } });
console.log(
  `seeded ${count.toLocaleString('en-US')} subscriptions in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
);

const cpu = { node: 0, postgres: 0 };
const run = async (label: string, at: Date, dryRun = false): Promise<number> => {
  now = at;
  const loadBefore = loadAverage();
  const pgBefore = await postgresCpuSeconds(em);
  const nodeBefore = process.cpuUsage();
  const started = performance.now();
  const r = await runtime.cycle.run(at, { dryRun });
  const s = (performance.now() - started) / 1000;
  const nodeUsage = process.cpuUsage(nodeBefore);
  const pgAfter = await postgresCpuSeconds(em);
  let pgCpu = 0;
  for (const [pid, t] of pgAfter) pgCpu += t - (pgBefore.get(pid) ?? 0);
  const nodeCpu = (nodeUsage.user + nodeUsage.system) / 1e6;
  if (!dryRun) {
    cpu.node += nodeCpu;
    cpu.postgres += pgCpu;
  }
  console.log(
    `${label.padEnd(34)} ${s.toFixed(2).padStart(6)} s wall, CPU ${(nodeCpu + pgCpu).toFixed(2).padStart(6)} s (node ${nodeCpu.toFixed(2)}, PostgreSQL ${pgCpu.toFixed(2)})  issued ${r.invoicesIssued.count.toLocaleString('en-US')} (Rp ${BigInt(r.invoicesIssued.amountIdr).toLocaleString('id-ID')}), overdue ${r.invoicesOverdue.count.toLocaleString('en-US')}, suspended ${r.subscriptionsSuspended.count.toLocaleString('en-US')}, expired ${r.subscriptionsExpired.count}; load ${loadBefore} → ${loadAverage()}`,
  );
  return s;
};
const dry = args['skip-dry-run'] ? 0 : await run('dry run (renewals, rolled back)', t0, true);
const renew = await run('renewal invoices', t0);
const idle = await run('same again (nothing to do)', t0);
const overdue = await run('overdue + suspension (10 days later)', new Date(t0.getTime() + 10 * 86_400_000));
const after = await run('same again (nothing to do)', new Date(t0.getTime() + 10 * 86_400_000));
const total = renew + overdue;
const numbers = (await em.execute(
  'select count(distinct number) as n, (array_agg(number order by id desc))[1] as last from invoices',
  [],
  'all',
)) as Array<{ n: string; last: string }>;
console.log(
  `distinct invoice numbers ${Number(numbers[0]?.n).toLocaleString('en-US')}, last ${numbers[0]?.last}`,
);
console.log(
  `billing cycle over ${count.toLocaleString('en-US')} subscriptions: ${total.toFixed(1)} s for issuing + suspending (target for 1,000,000: < 180 s); dry run ${dry.toFixed(1)} s, idle runs ${idle.toFixed(2)} s and ${after.toFixed(2)} s`,
);
const perThousand = 1000 / count;
console.log(
  `per 1,000 subscriptions (all runs but the dry one): wall ${((total + idle + after) * perThousand * 1000).toFixed(0)} ms, CPU ${((cpu.node + cpu.postgres) * perThousand * 1000).toFixed(0)} ms (node ${(cpu.node * perThousand * 1000).toFixed(0)}, PostgreSQL ${(cpu.postgres * perThousand * 1000).toFixed(0)})`,
);
await runtime.stop(1_000);
await pg.stop();
