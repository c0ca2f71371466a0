// Sustained webhook ingestion with a real PostgreSQL, and notification throughput with a rate limit.
// Usage: npm run bench -w alert-router [-- SECONDS [CONCURRENCY [ALERTS_PER_WEBHOOK]]]
import { createServer } from 'node:http';
import { pino } from 'pino';
import { startPostgres } from '@ispmon/local-servers';
import { startRuntime } from '../dist/runtime.js';
import { webhook } from '../test/fixtures.ts';

const seconds = Number(process.argv[2] ?? 60);
const concurrency = Number(process.argv[3] ?? 16);
const perWebhook = Number(process.argv[4] ?? 10);

const pg = await startPostgres({
  settings: { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' },
});
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
const databaseUrl = await pg.createDatabase();
const router = await startRuntime({
  databaseUrl,
  port: 0,
  logger: pino({ level: 'silent' }),
  pollMs: 0,
  configText: `channels:\n  sink: { type: webhook, url: "http://127.0.0.1:${sinkPort}/x", rate_limit_per_minute: 600 }\npolicies:\n  - name: all\n    match: { bench: notify }\n    steps: [{ notify: [sink] }]\n`,
});

let sent = 0;
let seq = 0;
const latencies: number[] = [];
const deadline = performance.now() + seconds * 1000;
const cpu0 = process.cpuUsage();
async function sender(): Promise<void> {
  while (performance.now() < deadline) {
    const alerts = Array.from({ length: perWebhook }, () => {
      seq += 1;
      return {
        labels: { alertname: 'Bench', router: `r${seq % 1000}`, severity: 'warning' },
        annotations: { summary: 'bench' },
        startsAt: '2026-11-22T00:00:00Z',
        generatorURL: '',
        fingerprint: `fp${seq}`,
      };
    });
    const body = JSON.stringify(webhook(alerts, { groupKey: `g${seq}` }));
    const t = performance.now();
    // Retry on non-2xx, as Alertmanager does.
    for (;;) {
      const res = await fetch(`${router.url}/webhook/alertmanager`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
      await res.arrayBuffer();
      if (res.ok) break;
    }
    latencies.push(performance.now() - t);
    sent += perWebhook;
  }
}
const t0 = performance.now();
await Promise.all(Array.from({ length: concurrency }, sender));
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
latencies.sort((a, b) => a - b);
const q = (p: number): number =>
  latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
const [{ n }] = (await pg.query<{ n: string }>(
  'select count(*) as n from incidents',
  [],
  databaseUrl.split('/').pop(),
)) as [{ n: string }];
console.log(
  `ingestion: ${sent} alerts in ${wall.toFixed(1)} s = ${(sent / wall).toFixed(0)} alerts/s (${concurrency} concurrent senders, ${perWebhook} alerts per webhook, fsync on)`,
);
console.log(
  `latency per webhook: p50 ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms; incidents stored ${n} of ${sent} sent (${Number(n) === sent ? 'no loss' : 'LOSS'}); process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s = ${((cpu.user + cpu.system) / 1e3 / sent).toFixed(3)} ms per alert (router and senders; PostgreSQL not counted)`,
);

// Notifications: 300 incidents for one channel limited to 600/min.
const notifyAlerts = Array.from({ length: 300 }, (_, i) => ({
  status: 'firing',
  labels: { alertname: 'Notify', bench: 'notify', i: String(i) },
  annotations: {},
  startsAt: '2026-11-22T00:00:00Z',
  endsAt: '0001-01-01T00:00:00Z',
  generatorURL: '',
  fingerprint: `n${i}`,
}));
await fetch(`${router.url}/webhook/alertmanager`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    version: '4',
    groupKey: 'n',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'x',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: '',
    alerts: notifyAlerts,
  }),
});
const n0 = performance.now();
while (delivered < 300 && performance.now() - n0 < 120_000) await router.work(new Date());
const nWall = (performance.now() - n0) / 1000;
console.log(
  `notifications: ${delivered} delivered in ${nWall.toFixed(2)} s = ${(delivered / nWall).toFixed(0)}/s with the channel limited to 600/min (the limit caps a minute's burst; 300 fit in one window)`,
);

await router.stop();
sink.close();
await pg.stop();
process.exit(0);
