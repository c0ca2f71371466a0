// SLA reports through VictoriaMetrics (the global layer of docs/scaling.md) against one Prometheus: the
// same raw probe counters (three days of April at 15 s scrapes, an outage whose edges fall inside
// minutes, a lossy afternoon, an exporter restart) are backfilled into a real Prometheus with promtool
// and imported into Debian's VictoriaMetrics; billing's own report pipeline (PrometheusSlaSource with
// PROMETHEUS_ENGINE=auto, then produce.ts's computeMonth) must give the same month from both.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MissingBinaryError,
  startPrometheusWithHistory,
  startVictoriaMetrics,
  waitFor,
  type PrometheusServer,
  type VictoriaMetricsServer,
} from '@ispmon/testkit';
import { PrometheusClient } from '../prometheus/client.js';
import { parseEngineSetting } from '../prometheus/engine.js';
import { monthBounds } from './calc.js';
import type { SlaLink } from './link.js';
import { computeMonth } from './produce.js';
import { PROBE_COUNTERS, PrometheusSlaSource } from './prometheus.js';
import type { SlaMonth } from './types.js';

const MONTH = '2026-04';
const ZONE = 'Asia/Jakarta';
const FROM = Date.parse('2026-04-10T00:00:05Z');
const TO = Date.parse('2026-04-13T00:00:00Z');
const SCRAPE_MS = 15_000;
// Edges inside minutes (10:00:20 to 10:37:40 Jakarta), where Prometheus's extrapolation and MetricsQL's
// plain increase() part.
const OUTAGE = [Date.parse('2026-04-11T03:00:20Z'), Date.parse('2026-04-11T03:37:40Z')] as const;
const LOSSY = [Date.parse('2026-04-11T07:00:00Z'), Date.parse('2026-04-11T09:00:00Z')] as const;
const RESTART = Date.parse('2026-04-12T05:13:00Z'); // the exporter restarts: counters from 0

/** A small deterministic generator (mulberry32), so both stores get the very same floats every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Sample {
  name: string;
  labels: string;
  value: number;
  ms: number;
}

/** The four probe counters of one link as scraped every 15 s: 1 probe/s, replies and RTT per probe. */
function linkSamples(link: string, seed: number): Sample[] {
  const next = random(seed);
  const labels = `{link="${link}",customer="C-7",router="r-001"}`;
  const out: Sample[] = [];
  let sent = 0;
  let received = 0;
  let rttSum = 0;
  for (let t = FROM; t < TO; t += SCRAPE_MS) {
    if (t - SCRAPE_MS < RESTART && t >= RESTART) [sent, received, rttSum] = [0, 0, 0];
    for (let s = t - SCRAPE_MS; s < t; s += 1000) {
      const down = s >= OUTAGE[0] && s < OUTAGE[1];
      const loss = down ? 1 : s >= LOSSY[0] && s < LOSSY[1] ? 0.45 : 0.01;
      sent += 1;
      if (next() >= loss) {
        received += 1;
        rttSum += 0.008 + next() * 0.02;
      }
    }
    out.push(
      { name: PROBE_COUNTERS.sent, labels, value: sent, ms: t },
      { name: PROBE_COUNTERS.received, labels, value: received, ms: t },
      { name: PROBE_COUNTERS.rttSum, labels, value: rttSum, ms: t },
      { name: PROBE_COUNTERS.rttCount, labels, value: received, ms: t },
    );
  }
  return out;
}

/** The link row computeMonth reads (commitments that the lossy afternoon and the outage breach). */
function slaLink(code: string, noDataPolicy: 'down' | 'exclude'): SlaLink {
  return {
    id: '1',
    code,
    name: code,
    customer_id: '7',
    customer_code: 'C-7',
    customer_name: 'PT Tujuh',
    router_id: null,
    bandwidth: null,
    service_address: null,
    availability_target_percent: '99.9',
    latency_target_ms: '15',
    loss_target_percent: '1',
    monthly_fee_idr: '12500000',
    credit_policy: {
      tiers: [
        { below_availability_percent: 99.9, credit_percent: 5 },
        { below_availability_percent: 99, credit_percent: 10 },
      ],
      cap_percent: 30,
    },
    contacts: [],
    time_zone: ZONE,
    no_data_policy: noDataPolicy,
  };
}

async function report(url: string, link: SlaLink, engine: 'auto' | 'prometheus'): Promise<SlaMonth> {
  const { start, end } = monthBounds(MONTH, ZONE);
  const series = await new PrometheusSlaSource({ url, engine }).linkSeries(link.code, start, end);
  const maintenance = [
    { start: new Date('2026-04-12T01:00:30Z'), end: new Date('2026-04-12T01:20:00Z'), reason: 'router swap' },
  ];
  return computeMonth(link, MONTH, series, maintenance);
}

/** Latency and loss are means of floats that the two engines sum in different orders. */
function expectSameMonth(got: SlaMonth, want: SlaMonth): void {
  const close = (a: number | null, b: number | null): boolean =>
    a === b || (a !== null && b !== null && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)));
  const floats = (m: SlaMonth) => ({
    latency: [m.latency.meanMs, m.latency.p95Ms],
    loss: m.lossPercent,
    hourly: m.hourly.flatMap((h) => [h.latencyMs, h.lossPercent]),
    upLoss: m.hourlyUpLossPercent,
  });
  const exact = (m: SlaMonth) => ({
    ...m,
    latency: { minutes: m.latency.minutes },
    lossPercent: null,
    hourly: m.hourly.map((h) => h.start),
    hourlyUpLossPercent: [],
  });
  expect(exact(got)).toEqual(exact(want));
  const [g, w] = [floats(got), floats(want)];
  const pairs: Array<[number | null, number | null]> = [
    [g.latency[0] ?? null, w.latency[0] ?? null],
    [g.latency[1] ?? null, w.latency[1] ?? null],
    [g.loss, w.loss],
    ...g.hourly.map((v, i): [number | null, number | null] => [v, w.hourly[i] ?? null]),
    ...g.upLoss.map((v, i): [number | null, number | null] => [v, w.upLoss[i] ?? null]),
  ];
  expect(g.hourly).toHaveLength(w.hourly.length);
  expect(pairs.filter(([a, b]) => !close(a, b))).toEqual([]);
}

describe('SLA reports through VictoriaMetrics', () => {
  let prom: PrometheusServer | undefined;
  let vm: VictoriaMetricsServer | undefined;
  let missing: string | undefined;
  let dir: string;
  const links = ['L-0100', 'L-0101'];

  beforeAll(async () => {
    try {
      // Months-old samples: the testkit's one-day retention would drop them.
      vm = await startVictoriaMetrics({ extraArgs: ['-retentionPeriod=100y'] });
    } catch (err) {
      if (!(err instanceof MissingBinaryError) || process.env.CI === 'true') throw err;
      missing = err.message;
      console.warn(`SKIPPED: SLA reports through VictoriaMetrics — ${err.message}`);
      return;
    }
    dir = mkdtempSync(join(tmpdir(), 'ispmon-sla-vm-'));
    const samples = links.flatMap((link, i) => linkSamples(link, 42 + i));
    const openMetrics = samples.map((s) => `${s.name}${s.labels} ${s.value} ${s.ms / 1000}`).join('\n');
    writeFileSync(join(dir, 'history.om'), `${openMetrics}\n# EOF\n`);
    const [server] = await Promise.all([
      startPrometheusWithHistory(join(dir, 'history.om'), { maxBlockDuration: '768h' }),
      (async () => {
        // Prometheus's text format with millisecond timestamps: the same floats, printed the same way.
        const text = samples.map((s) => `${s.name}${s.labels} ${s.value} ${s.ms}`).join('\n');
        const res = await fetch(`${vm!.url}/api/v1/import/prometheus`, { method: 'POST', body: `${text}\n` });
        if (!res.ok) throw new Error(`VictoriaMetrics import: HTTP ${res.status} ${await res.text()}`);
        await waitFor(
          'the import searchable in VictoriaMetrics',
          async () => {
            const got = await vm!.query(`count_over_time(${PROBE_COUNTERS.sent}[4d])`, new Date(TO));
            return got.length === links.length &&
              got.every((g) => Number(g.value[1]) === samples.length / 4 / links.length)
              ? true
              : undefined;
          },
          { timeoutMs: 30_000 },
        );
      })(),
    ]);
    prom = server;
  }, 180_000); // promtool backfill + start: over 60 s at load 15 (prometheus.test.ts)

  afterAll(async () => {
    await prom?.stop();
    await vm?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('tells VictoriaMetrics from Prometheus under PROMETHEUS_ENGINE=auto', async () => {
    if (missing) return;
    const engines = await Promise.all(
      [vm!.url, prom!.url].map((url) => new PrometheusClient({ url, engine: 'auto' }).engine()),
    );
    expect(engines).toEqual(['victoriametrics', 'prometheus']);
    expect(await new PrometheusClient({ url: vm!.url, engine: 'auto' }).increaseFunction()).toBe(
      'increase_prometheus',
    );
  });

  it('gives the same month through VictoriaMetrics as through Prometheus, for both no-data policies', async () => {
    if (missing) return;
    for (const [i, code] of links.entries()) {
      const link = slaLink(code, i === 0 ? 'exclude' : 'down');
      const [viaProm, viaVm] = await Promise.all([
        report(prom!.url, link, 'auto'),
        report(vm!.url, link, 'auto'),
      ]);
      // The month is not trivial: an outage, breaches, a credit, minutes of each kind.
      expect(viaProm.minutes.down).toBeGreaterThan(30);
      expect(viaProm.minutes.maintenance).toBeGreaterThan(0);
      expect(viaProm.incidents.length).toBeGreaterThan(0);
      expect(viaProm.credit.amountIdr).toBeGreaterThan(0n);
      expect(viaProm.latency.minutes).toBeGreaterThan(4000);
      expectSameMonth(viaVm, viaProm);
    }
  });

  it('would not with MetricsQL’s plain increase(): PROMETHEUS_ENGINE=prometheus against VictoriaMetrics', async () => {
    if (missing) return;
    const link = slaLink(links[0]!, 'exclude');
    const [viaProm, plain] = await Promise.all([
      report(prom!.url, link, 'auto'),
      report(vm!.url, link, 'prometheus'),
    ]);
    // MetricsQL's increase() counts the probes since the last scrape before the minute (60 of them, not
    // 45): the outage's edge minutes and every minute's latency and loss come out otherwise.
    expect(plain.latency.meanMs).not.toBe(viaProm.latency.meanMs);
    expect(() => expectSameMonth(plain, viaProm)).toThrow();
    const figures = (m: SlaMonth) =>
      `${m.minutes.down} down minutes, availability ${m.availabilityPercent?.toFixed(4)} %, ` +
      `latency ${m.latency.meanMs?.toFixed(4)} ms, loss ${m.lossPercent?.toFixed(4)} %`;
    console.log(
      `SLA month via Prometheus: ${figures(viaProm)}; via VictoriaMetrics's plain increase(): ${figures(plain)}`,
    );
  });
});

describe('PROMETHEUS_ENGINE', () => {
  it('accepts prometheus, victoriametrics and auto (unset is auto), and names the variable otherwise', () => {
    expect(
      ['prometheus', 'VictoriaMetrics', 'auto', undefined, ''].map((v) => parseEngineSetting(v)),
    ).toEqual(['prometheus', 'victoriametrics', 'auto', 'auto', 'auto']);
    expect(() => parseEngineSetting('thanos')).toThrow(
      "PROMETHEUS_ENGINE must be prometheus, victoriametrics or auto, got 'thanos'",
    );
  });
});
