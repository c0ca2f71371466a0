// The monthly SLA report of 1,000 client links: compute each month from synthetic minute series
// (computeSlaMonth), lay out the HTML, print the PDFs with one Chromium (reports batched into shared
// documents and split), write them to a temporary directory. Target: under 2 minutes for all 1,000 on
// two cores, PDFs included: at most ~200 ms of CPU per report, all processes together.
// Usage: npm run bench:sla -w billing -- [links=1000] [concurrencies=2] [batchSize=25]
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeSlaMonth, monthBounds } from '../dist/sla/calc.js';
import { PdfRenderer } from '../dist/sla/report/pdf.js';
import { renderReportHtml } from '../dist/sla/report/render.js';
import type { SlaInput } from '../dist/sla/types.js';

const links = Number(process.argv[2] ?? 1000);
const concurrencies = (process.argv[3] ?? '2').split(',').map(Number);
const batchSize = Number(process.argv[4] ?? 25);
const month = '2026-04';
const zones = ['Asia/Jakarta', 'Asia/Makassar', 'Asia/Jayapura'];

/** Deterministic per-link randomness, so every run renders the same 1,000 months. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Healthy minute series of a zone's month, shared by all its links (the tuples are never mutated). */
const healthy = new Map<
  string,
  { t0: number; up: Array<[number, number]>; noLoss: Array<[number, number]> }
>();
function healthyMonth(timeZone: string): {
  t0: number;
  up: Array<[number, number]>;
  noLoss: Array<[number, number]>;
} {
  let h = healthy.get(timeZone);
  if (!h) {
    const { start, end } = monthBounds(month, timeZone);
    const t0 = start.getTime();
    const up: Array<[number, number]> = [];
    const noLoss: Array<[number, number]> = [];
    for (let t = t0; t < end.getTime(); t += 60_000) {
      up.push([t / 1000 + 60, 1]);
      noLoss.push([t / 1000 + 60, 0]);
    }
    h = { t0, up, noLoss };
    healthy.set(timeZone, h);
  }
  return h;
}

/** One link's month of minute series: a few outages, a congested day, sparse loss, a gap, maintenance. */
function linkInput(i: number): { input: SlaInput; reasons: string[] } {
  const rnd = random(i + 1);
  const timeZone = zones[i % zones.length] as string;
  const { t0, up, noLoss } = healthyMonth(timeZone);
  const minutes = up.length;
  const availability = up.slice();
  const loss = noLoss.slice();
  const down = new Uint8Array(minutes);
  for (let n = Math.floor(rnd() * 5); n > 0; n--) {
    const at = Math.floor(rnd() * minutes);
    for (let k = at; k < Math.min(minutes, at + 1 + Math.floor(rnd() * 90)); k++) {
      down[k] = 1;
      availability[k] = [(up[k] as [number, number])[0], 0];
      loss[k] = [(up[k] as [number, number])[0], 1];
    }
  }
  for (let n = Math.floor(rnd() * 40); n > 0; n--) {
    const k = Math.floor(rnd() * minutes);
    if (!down[k]) loss[k] = [(up[k] as [number, number])[0], rnd() * 0.05];
  }
  const congestedDay = Math.floor(rnd() * 30);
  const baseSeconds = (5 + rnd() * 25) / 1000;
  const latency: Array<[number, number]> = [];
  for (let k = 0; k < minutes; k++) {
    if (down[k]) continue;
    const congested = Math.floor(k / 1440) === congestedDay && k % 1440 > 600 && k % 1440 < 1320;
    latency.push([(up[k] as [number, number])[0], baseSeconds * (congested ? 2.5 : 1) + (k % 7) / 2000]);
  }
  if (rnd() < 0.3) {
    // the probe itself was down for 45 minutes: no data
    const gap = Math.floor(rnd() * (minutes - 45));
    availability.splice(gap, 45);
  }
  const maintenance =
    rnd() < 0.4
      ? [{ start: new Date(t0 + 20 * 86_400_000), end: new Date(t0 + 20 * 86_400_000 + 7_200_000) }]
      : [];
  return {
    reasons: maintenance.map(() => 'Core switch upgrade'),
    input: {
      month,
      timeZone,
      availability,
      latencyMeanSeconds: latency,
      loss,
      maintenance,
      noDataPolicy: i % 2 ? 'exclude' : 'down',
      commitments: {
        availabilityPercent: [99.5, 99.9, 99.95][i % 3] as number,
        latencyMs: i % 4 === 3 ? null : 30,
        lossPercent: 1,
      },
      monthlyFeeIdr: BigInt(2_500_000 + (i % 10) * 2_500_000),
      creditPolicy: {
        tiers: [
          { belowAvailabilityPercent: 99.95, creditPercent: 5 },
          { belowAvailabilityPercent: 99.5, creditPercent: 10 },
          { belowAvailabilityPercent: 99, creditPercent: 25 },
        ],
        capPercent: 50,
      },
    },
  };
}

/** CPU seconds: this process, its reaped children (the closed browsers), and the whole machine. */
function cpuSeconds(): { node: number; children: number; machine: number } {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  const ticks = 100; // USER_HZ
  const all = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const idle = (all[3] ?? 0) + (all[4] ?? 0);
  return {
    node: ((f[11] ?? 0) + (f[12] ?? 0)) / ticks,
    children: ((f[13] ?? 0) + (f[14] ?? 0)) / ticks,
    machine: (all.slice(0, 8).reduce((a, b) => a + b, 0) - idle) / ticks,
  };
}

/** CPU seconds of a live process tree, with what its members reaped from exited children. */
function treeCpuSeconds(root: number | undefined): number {
  let ticks = 0;
  const stack = root === undefined ? [] : [root];
  for (let pid = stack.pop(); pid !== undefined; pid = stack.pop()) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat
        .slice(stat.lastIndexOf(')') + 2)
        .split(' ')
        .map(Number);
      ticks += (f[11] ?? 0) + (f[12] ?? 0) + (f[13] ?? 0) + (f[14] ?? 0);
      for (const tid of readdirSync(`/proc/${pid}/task`))
        for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' '))
          if (child.trim()) stack.push(Number(child));
    } catch {
      // exited meanwhile
    }
  }
  return ticks / 100;
}

const quantile = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;

async function run(concurrency: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ispmon-sla-bench-'));
  const renderer = await PdfRenderer.start({ concurrency, batchSize });
  const perPdf: number[] = [];
  const phase = { input: 0, compute: 0, html: 0 };
  let inputCpuMs = 0; // the synthetic series stand in for Prometheus's answers: not part of a report's cost
  let bytes = 0;
  let next = 0;
  const cpu0 = cpuSeconds();
  const started = performance.now();
  // Enough reports waiting that every slot prints a full batch and the next batch is ready meanwhile.
  const producers = Array.from({ length: (concurrency + 1) * batchSize }, async () => {
    for (let i = next++; i < links; i = next++) {
      let t = performance.now();
      const c = process.cpuUsage();
      const { input, reasons } = linkInput(i);
      const spent = process.cpuUsage(c);
      inputCpuMs += (spent.user + spent.system) / 1000;
      phase.input += performance.now() - t;
      t = performance.now();
      const sla = computeSlaMonth(input);
      phase.compute += performance.now() - t;
      t = performance.now();
      const html = renderReportHtml({
        provider: {
          name: 'Nusantara Fiber',
          address: 'Jl. Sudirman 1, Jakarta',
          email: 'noc@nusantara.example',
        },
        customer: { code: `C-${String(i).padStart(4, '0')}`, name: `PT Pelanggan ${i} Tbk` },
        link: {
          code: `L-${String(i).padStart(4, '0')}`,
          name: `Link ${i}`,
          bandwidth: `${50 + (i % 10) * 50} Mbps`,
        },
        sla,
        maintenance: input.maintenance.map((w, k) => ({ ...w, reason: reasons[k] ?? '' })),
        generatedAt: new Date('2026-05-01T01:00:00Z'),
      });
      phase.html += performance.now() - t;
      t = performance.now();
      const pdf = await renderer.render(html, { footerLabel: `Nusantara Fiber · L-${i} · ${month}` });
      perPdf.push(performance.now() - t);
      bytes += pdf.length;
      writeFileSync(join(dir, `L-${i}.pdf`), pdf);
    }
  });
  await Promise.all(producers);
  const total = (performance.now() - started) / 1000;
  const stats = renderer.stats();
  // The last browser's tree before it closes (most of its CPU), plus what earlier ones left when reaped.
  const liveBrowserCpu = treeCpuSeconds(renderer.browserPid());
  const reaped = cpuSeconds().children;
  await renderer.close();
  const cpu1 = cpuSeconds();
  const nodeCpu = cpu1.node - cpu0.node;
  const browserCpu = liveBrowserCpu + (reaped - cpu0.children);
  const othersCpu = cpu1.machine - cpu0.machine - nodeCpu - browserCpu;
  const sample = statSync(join(dir, 'L-0.pdf')).size;
  rmSync(dir, { recursive: true, force: true });
  perPdf.sort((a, b) => a - b);
  const ms = (v: number): string => `${v.toFixed(0)} ms`;
  console.log(
    [
      `concurrency ${concurrency}, batches of up to ${batchSize}: ${links} reports in ${total.toFixed(1)} s (${(links / total).toFixed(1)}/s), ${stats.documentsPrinted} Chromium documents`,
      `render (queue + print) p50 ${ms(quantile(perPdf, 0.5))} p95 ${ms(quantile(perPdf, 0.95))}`,
      `node per report: input ${ms(phase.input / links)} compute ${ms(phase.compute / links)} html ${ms(phase.html / links)}`,
      `PDFs ${(bytes / 1e6).toFixed(1)} MB (mean ${(bytes / links / 1024).toFixed(0)} KiB, L-0 ${(sample / 1024).toFixed(0)} KiB)`,
      `CPU per report: node ${ms((nodeCpu * 1000 - inputCpuMs) / links)} (+ ${ms(inputCpuMs / links)} making the synthetic input), Chromium ${ms((browserCpu * 1000) / links)}, together ${ms((nodeCpu * 1000 - inputCpuMs + browserCpu * 1000) / links)}; ` +
        `other processes on the machine used ${Math.max(0, (othersCpu / total) * 100).toFixed(0)}% of one core meanwhile`,
      `browser peak RSS ${(stats.peakRssBytes / 2 ** 20).toFixed(0)} MiB, restarts ${stats.browserRestarts}, pages ${stats.pagesRendered}`,
    ].join('\n  '),
  );
}

for (const c of concurrencies) await run(c);
console.log(`node peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
