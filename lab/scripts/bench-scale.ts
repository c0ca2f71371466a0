// Scale figures for the RouterOS simulator: N routers (default 1,000) × 24 interfaces × 100 PPP sessions
// in one process; every router is logged in to and asked for /interface and /ppp/active concurrently,
// as an exporter would. Prints start-up time, memory and CPU. Usage: npm run bench:scale -w lab [-- 1000]
import { startRouterLab } from '../dist/routeros/index.js';
import { RawApiClient } from '../dist/routeros/raw-client.js';

const count = Number(process.argv[2] ?? 1000);
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const lab = await startRouterLab({ count, pppChurn: 0.05 });
const startMs = performance.now() - t0;
const afterStart = process.memoryUsage();
const cpuStart = process.cpuUsage(cpu0);

const t1 = performance.now();
const cpu1 = process.cpuUsage();
let rows = 0;
const latencies: number[] = [];
const concurrency = 200;
let next = 0;
async function worker(): Promise<void> {
  for (;;) {
    const i = next++;
    const router = lab.routers[i];
    if (!router) return;
    const started = performance.now();
    const c = await RawApiClient.connect(router.port);
    await c.login(router.username, router.password);
    const ifaces = await c.command(['/interface/print'], 'i');
    const ppp = await c.command(['/ppp/active/print'], 'p');
    rows += ifaces.length + ppp.length - 2;
    c.close();
    latencies.push(performance.now() - started);
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const scrapeMs = performance.now() - t1;
const cpuScrape = process.cpuUsage(cpu1);
latencies.sort((a, b) => a - b);
const q = (p: number): number =>
  latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
const peak = process.memoryUsage();
await lab.stop();

console.log(`routers: ${count} (24 interfaces, 100 PPP sessions each) in one process`);
console.log(
  `start: ${startMs.toFixed(0)} ms wall, ${(cpuStart.user + cpuStart.system) / 1e6} s CPU, RSS ${mb(afterStart.rss)}, heap ${mb(afterStart.heapUsed)}`,
);
console.log(
  `read all (login + /interface + /ppp/active, ${concurrency} concurrent clients in the same process): ${scrapeMs.toFixed(0)} ms wall, ${((cpuScrape.user + cpuScrape.system) / 1e6).toFixed(2)} s CPU, ${rows} rows`,
);
console.log(`per router: p50 ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms`);
console.log(`peak RSS ${mb(peak.rss)}`);
