// Shard pairs with real parts: one exporter measuring two client links → two Debian Prometheus with the
// same shard configuration from prometheus/shards/generate.mjs (--replica a / b, intervals shortened) →
// remote_write to Debian's VictoriaMetrics with -dedup.minScrapeInterval. One member is restarted; the
// SLA over the span through the global layer is compared with the one its peer (a single Prometheus that
// held all the data) gives, and with the one the restarted member alone would give: in 6 s windows from
// the exporter, and as billing's month report from an accelerated prober (tests/support/pair-sla.ts)
// through a second VictoriaMetrics deduplicating at its 15 s.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parse, stringify } from 'yaml';
import { PrometheusClient, type SlaMonth } from '@ispmon/billing';
import { Exporter } from '@ispmon/exporter';
import type { ProbeTargets } from '@ispmon/lab';
import { startPrometheus, waitFor, type PrometheusServer, type VictoriaMetricsServer } from '@ispmon/testkit';
import {
  generateShardConfig,
  probeTargetsIfPrivileged,
  startVictoriaMetricsOrSkip,
} from '../support/shards.js';
import {
  ceilMinute,
  monthDifferences,
  reportMonth,
  slaLink,
  slaOverSpan,
  startAcceleratedProber,
  type AcceleratedProber,
} from '../support/pair-sla.js';

const LINKS = ['L-0001', 'L-0002'];
/** Scrape interval = dedup interval; SLA windows of 6 s stand in for billing's minutes, stepped every second. */
const SCRAPE_S = 1;
const WINDOW_S = 6;
/** How long the restarted member stays down: longer than a window, so its own data has windows without any. */
const DOWN_MS = 8_000;
/** The accelerated prober's links for billing's month report: sample time runs 15× (1 s scrapes = 15 s). */
const SLA_LINKS = [
  { link: 'L-S001', probesPerSecond: 1, answered: 0.9, rttSeconds: 0.012 },
  { link: 'L-S002', probesPerSecond: 2, answered: 0.96, rttSeconds: 0.031 },
];
const SPEED = 15;
const DEDUP_SLA_S = 15;
const OUTAGE_MINUTES = 2;

const memberArgs = (exporter: string, remoteWrite: string, replica: string): string[] => [
  ...['--shards', '1', '--shard', '0', '--exporter', exporter, '--self', '127.0.0.1:9'],
  ...['--remote-write', remoteWrite, '--replica', replica],
];

describe('prometheus/shards/generate.mjs --replica', () => {
  it('names the member in an external label that neither remote_write nor alerts carry', async () => {
    const r = await generateShardConfig(
      memberArgs('exporter-0:9436', 'http://vminsert:8480/insert/0/prometheus/api/v1/write', 'b'),
    );
    expect(r.code).toBe(0);
    const config = parse(r.out) as {
      global: { external_labels: Record<string, string> };
      alerting: { alert_relabel_configs: unknown[] };
      remote_write: unknown[];
    };
    expect(config.global.external_labels).toEqual({
      ispmon_cluster: 'main',
      ispmon_shard: '0',
      ispmon_replica: 'b',
    });
    expect(config.alerting.alert_relabel_configs).toEqual([
      { regex: 'ispmon_shard|ispmon_replica', action: 'labeldrop' },
    ]);
    expect(config.remote_write).toEqual([
      {
        url: 'http://vminsert:8480/insert/0/prometheus/api/v1/write',
        write_relabel_configs: [{ regex: 'ispmon_replica', action: 'labeldrop' }],
      },
    ]);
    expect(r.out).toMatch(/^# Generated .*: shard 0 of 1, replica b\.$/m);
  });

  it('refuses a replica name that is not a short label value, writing nothing', async () => {
    const results = await Promise.all(
      ['', 'A', 'a b', 'x'.repeat(33)].map((name) =>
        generateShardConfig(memberArgs('e:1', 'http://vm/', name)),
      ),
    );
    for (const r of results)
      expect({ code: r.code, out: r.out, err: r.err }).toEqual({
        code: 2,
        out: '',
        err: expect.stringMatching(/--replica must be a short lower-case name/),
      });
  });
});

interface Step {
  t: number;
  success?: number;
  rtt?: number;
}

interface Restart {
  restarted: 'a' | 'b';
  peer: 'a' | 'b';
  /** Wall clock (unix s): the span of the 6 s windows, the stop and the start. */
  before: number;
  end: number;
  /** Sample time of the accelerated prober (unix ms): stopped, starting again, started. */
  stoppedSample: number;
  restartSample: number;
  startedSample: number;
  /** The restarted member's samples among the SLA store's, in the minute before the stop. */
  keptOfRestarted: number;
}

describe('a shard pair deduplicated in VictoriaMetrics, one member restarted', () => {
  let probes: ProbeTargets | undefined;
  let exporter: Exporter | undefined;
  let vm: VictoriaMetricsServer | undefined;
  /** The store billing's month report reads, deduplicating at the accelerated 15 s scrape interval. */
  let vmSla: VictoriaMetricsServer | undefined;
  let prober: AcceleratedProber | undefined;
  const members: Record<'a' | 'b', { config: string; data: string; server?: PrometheusServer }> = {
    a: { config: '', data: '' },
    b: { config: '', data: '' },
  };
  let missing: string | undefined;
  let dir: string;
  /** Sample time of the report's first minute; the outage follows one up minute. */
  let slaStart = 0;
  let outage: [number, number] = [0, 0];

  const startMember = async (name: 'a' | 'b'): Promise<PrometheusServer> => {
    const m = members[name];
    m.server = await startPrometheus({ config: m.config, dataDir: m.data });
    return m.server;
  };

  beforeAll(async () => {
    const [windows, months] = await Promise.all([
      startVictoriaMetricsOrSkip('the shard pair test', {
        extraArgs: [`-dedup.minScrapeInterval=${SCRAPE_S}s`],
      }),
      startVictoriaMetricsOrSkip('the shard pair test', {
        extraArgs: [`-dedup.minScrapeInterval=${DEDUP_SLA_S}s`],
      }),
    ]);
    ({ vm, missing } = windows);
    vmSla = months.vm;
    if (missing) return;
    dir = mkdtempSync(join(tmpdir(), 'ispmon-pairs-'));
    // A lossy link and a slow one, so success fractions and RTT means are not constants; without network
    // namespaces (not root) both are probes of the loopback address.
    probes = await probeTargetsIfPrivileged(2, 185 + (process.pid % 25));
    probes?.targets[0]!.setLoss(0.1);
    probes?.targets[1]!.setLatency(15, 5);
    const hosts = LINKS.map((_, i) => probes?.targets[i]?.address ?? '127.0.0.1');
    writeFileSync(
      join(dir, 'probes.json'),
      JSON.stringify(
        LINKS.map((link) => ({ targets: [link], labels: { link, customer: 'C-1', module: 'icmp' } })),
      ),
    );
    writeFileSync(
      join(dir, 'exporter.yml'),
      `listen: 127.0.0.1:0\ndefault_timeout: 2s\ntargets:\n  probes:\n${LINKS.map(
        (link, i) =>
          `    - { name: ${link}, host: ${hosts[i]}, protocol: icmp, interval: 200ms, timeout: 1s }\n`,
      ).join('')}`,
    );
    exporter = new Exporter({ configFile: join(dir, 'exporter.yml'), logger: pino({ level: 'silent' }) });
    exporter.load();
    const address = await exporter.listen();
    prober = await startAcceleratedProber(SLA_LINKS, { speed: SPEED, origin: Date.now() });
    const generated = await Promise.all(
      ['a', 'b'].map((name) => generateShardConfig(memberArgs(address, vm!.writeUrl, name))),
    );
    for (const [i, name] of (['a', 'b'] as const).entries()) {
      const g = generated[i]!;
      if (g.code !== 0) throw new Error(`generate.mjs failed: ${g.err}`);
      const config = parse(
        g.out
          .replace(
            /- \/var\/lib\/ispmon\/inventory\/file_sd\/probes\*\.json/,
            `- ${join(dir, 'probes.json')}`,
          )
          .replace(/scrape_interval: \d+s/g, `scrape_interval: ${SCRAPE_S}s`)
          .replace(/scrape_timeout: \d+s/g, 'scrape_timeout: 900ms')
          .replace(/evaluation_interval: \d+s/, 'evaluation_interval: 5s')
          .replace(/rule_files:\n(?: {2}- .*\n)+/, '')
          .replace(
            /(remote_write:\n {2}- url: .*\n)/,
            '$1    queue_config: { batch_send_deadline: 200ms }\n',
          ),
      ) as {
        scrape_configs: unknown[];
        remote_write: Array<{ url: string; write_relabel_configs: unknown[] }>;
      };
      // The accelerated prober's job goes to the SLA store only, with the generated relabelling.
      config.scrape_configs.push({
        job_name: 'pair-sla',
        honor_timestamps: true,
        static_configs: [{ targets: [prober.address] }],
      });
      const generatedWrite = config.remote_write[0]!;
      const job = (action: 'keep' | 'drop') => ({ source_labels: ['job'], regex: 'pair-sla', action });
      config.remote_write = [
        { ...generatedWrite, write_relabel_configs: [...generatedWrite.write_relabel_configs, job('drop')] },
        {
          ...generatedWrite,
          url: vmSla!.writeUrl,
          write_relabel_configs: [...generatedWrite.write_relabel_configs, job('keep')],
        },
      ];
      members[name].config = stringify(config);
      members[name].data = join(dir, `data-${name}`);
    }
    await Promise.all([startMember('a'), startMember('b')]);
    await waitFor(
      'both members scraping the accelerated prober',
      async () => {
        const at = prober!.sampleTime() / 1000;
        const counts = await Promise.all(
          [members.a.server!.url, members.b.server!.url].map((u) =>
            sampleTimes(u, 120, at, SLA_LINKS[0]!.link),
          ),
        );
        return counts.every((c) => c.length >= 1) ? true : undefined;
      },
      { timeoutMs: 20_000 },
    );
    // The first minute after both members' first scrapes, at least one more scrape (15 s) later.
    slaStart = ceilMinute(prober.sampleTime() + DEDUP_SLA_S * 1000);
    outage = [slaStart + 60_000, slaStart + (1 + OUTAGE_MINUTES) * 60_000];
    prober.scheduleOutage(...outage);
  }, 60_000);

  afterAll(async () => {
    for (const m of Object.values(members)) await m.server?.stop();
    await exporter?.close();
    await prober?.stop();
    await Promise.all([vm?.stop(), vmSla?.stop()]);
    await probes?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Raw sample times of one link's counter in the last `seconds`, from a member or the global layer. */
  const sampleTimes = async (
    url: string,
    seconds: number,
    at: number,
    link = LINKS[0],
  ): Promise<number[]> => {
    const q = new URLSearchParams({
      query: `probe_packets_sent_total{link="${link}"}[${seconds}s]`,
      time: String(at),
    });
    const body = (await (await fetch(`${url}/api/v1/query?${q.toString()}`)).json()) as {
      data?: { result: Array<{ values: Array<[number, string]> }> };
      error?: string;
    };
    if (!body.data) throw new Error(`${url}: ${q.get('query')}: ${body.error}`);
    return (body.data.result[0]?.values ?? []).map(([t]) => t);
  };

  it('holds each link once in the global layer, without the replica label, one sample per scrape interval', async () => {
    if (missing) return;
    const [a, b] = [members.a.server!, members.b.server!];
    await waitFor(
      '5 s of probe samples in both members and in VictoriaMetrics',
      async () => {
        const at = Date.now() / 1000 - 1;
        const counts = await Promise.all([a.url, b.url, vm!.url].map((u) => sampleTimes(u, 5, at)));
        return counts.every((c) => c.length >= 4) ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const series = await vm!.query('probe_packets_sent_total');
    expect(series.map((s) => s.metric.link).sort()).toEqual(LINKS);
    expect(series.every((s) => s.metric.ispmon_shard === '0' && s.metric.ispmon_replica === undefined)).toBe(
      true,
    );
    // Both members' samples reach VictoriaMetrics as one series; dedup leaves one per interval.
    const at = Math.floor(Date.now() / 1000) - 2;
    const [inA, inB, inVm] = await Promise.all([
      sampleTimes(a.url, 8, at),
      sampleTimes(b.url, 8, at),
      sampleTimes(vm!.url, 8, at),
    ]);
    expect(inVm.length).toBeLessThanOrEqual(Math.max(inA.length, inB.length) + 1);
    expect(inVm.length).toBeGreaterThanOrEqual(Math.min(inA.length, inB.length) - 1);
  });

  describe('across the restart of the member whose samples the SLA store keeps', () => {
    let r: Restart | undefined;

    beforeAll(async () => {
      if (missing) return;
      const server = vm!;
      const slaLink0 = SLA_LINKS[0]!.link;
      // The outage is over and a minute of samples follows it in the SLA store, so the restart's gap
      // and the outage are apart.
      // Stop the member whose samples the dedup keeps (the later one in each 15 s interval; the offsets
      // are per member): the SLA store must then switch to the peer's samples for the gap. Read 90 s of
      // sample time ending 30 s back (2 s of wall clock for remote_write), once the outage is over and
      // a minute of samples follows it, so the restart's gap and the outage are apart.
      let [ofA, ofB] = [0, 0];
      await waitFor(
        'a minute after the outage in the SLA store',
        async () => {
          const at = prober!.sampleTime() / 1000 - 30;
          if (at * 1000 < outage[1] + 60_000) return undefined;
          const [inA, inB, inSla] = await Promise.all([
            sampleTimes(members.a.server!.url, 90, at, slaLink0),
            sampleTimes(members.b.server!.url, 90, at, slaLink0),
            sampleTimes(vmSla!.url, 90, at, slaLink0),
          ]);
          ofA = inSla.filter((t) => inA.includes(t)).length;
          ofB = inSla.filter((t) => inB.includes(t)).length;
          return inSla.length >= 4 ? true : undefined;
        },
        { timeoutMs: 30_000 },
      );
      const restarted: 'a' | 'b' = ofA >= ofB ? 'a' : 'b';
      // The span of the 6 s windows starts 3 s before the stop, its first window full of both members' samples.
      await waitFor(
        'a full window of samples before the span',
        async () => {
          const at = Date.now() / 1000;
          const counts = await Promise.all(LINKS.map((l) => sampleTimes(server.url, WINDOW_S + 3, at, l)));
          return counts.every((c) => c.length >= WINDOW_S + 2) ? true : undefined;
        },
        { timeoutMs: 20_000 },
      );
      const before = Math.floor(Date.now() / 1000) - 3;
      await members[restarted].server!.stop();
      const stoppedAt = Date.now() / 1000;
      const stoppedSample = prober!.sampleTime();
      await waitFor(
        'the member down for 8 s',
        async () => (Date.now() / 1000 >= stoppedAt + DOWN_MS / 1000 ? true : undefined),
        { timeoutMs: DOWN_MS + 2_000 },
      );
      const restartSample = prober!.sampleTime();
      const back = await startMember(restarted);
      const startedAt = Date.now() / 1000;
      const startedSample = prober!.sampleTime();
      // Windows after the restart filled by both again: the restarted member's samples reach the global layer.
      await waitFor(
        'the restarted member scraping and writing again',
        async () => {
          const at = Date.now() / 1000 - 1;
          const [own, global] = await Promise.all([
            sampleTimes(back.url, 3, at),
            sampleTimes(server.url, 3, at),
          ]);
          const fresh = own.filter((t) => t > startedAt);
          return fresh.length >= 2 && global.some((t) => t >= fresh[0]!) ? true : undefined;
        },
        { timeoutMs: 20_000 },
      );
      r = {
        restarted,
        peer: restarted === 'a' ? 'b' : 'a',
        before,
        end: Math.floor(Date.now() / 1000) - 1,
        stoppedSample,
        restartSample,
        startedSample,
        keptOfRestarted: restarted === 'a' ? ofA : ofB,
      };
    }, 90_000);

    it('keeps the SLA of the peer in 6 s windows: no window without data, none counted down', async () => {
      if (missing) return;
      const { restarted, peer, before, end } = r!;
      const server = vm!;
      const [back, peerServer] = [members[restarted].server!, members[peer].server!];

      // billing's SLA query shape (sla/prometheus.ts linkRatioQuery) over 6 s windows, with the function
      // billing's client picks for each engine under PROMETHEUS_ENGINE=auto.
      const steps = async (url: string, link: string): Promise<Step[]> => {
        const client = new PrometheusClient({ url, engine: 'auto' });
        const increase = await client.increaseFunction();
        const ratio = (num: string, den: string) =>
          `sum by (link) (${increase}(${num}{link="${link}"}[${WINDOW_S}s])) / (sum by (link) (${increase}(${den}{link="${link}"}[${WINDOW_S}s])) > 0)`;
        const [success, rtt] = await Promise.all([
          client.queryRange(
            ratio('probe_packets_received_total', 'probe_packets_sent_total'),
            before,
            end,
            1,
          ),
          client.queryRange(ratio('probe_rtt_seconds_sum', 'probe_rtt_seconds_count'), before, end, 1),
        ]);
        const out: Step[] = [];
        for (let t = before; t <= end; t++)
          out.push({
            t,
            success: success[0]?.values.find(([x]) => x === t)?.[1],
            rtt: rtt[0]?.values.find(([x]) => x === t)?.[1],
          });
        return out;
      };
      /** Availability over the steps with no-data counted as down (billing's stricter no-data policy). */
      const availability = (s: Step[]) => s.filter((x) => (x.success ?? 0) >= 0.5).length / s.length;
      const figures: string[] = [];
      for (const link of LINKS) {
        const [global, single, alone] = await Promise.all([
          steps(server.url, link),
          steps(peerServer.url, link),
          steps(back.url, link),
        ]);
        const ownTimes = await sampleTimes(back.url, end - before + WINDOW_S + 2, end, link);
        // The restarted member's own data has windows without a sample pair: those would be down minutes.
        const gap = alone.filter((x) => x.success === undefined).map((x) => x.t);
        expect(gap.length).toBeGreaterThanOrEqual(2);
        expect(availability(alone)).toBeLessThan(1);
        // Through the global layer every window has data, and the SLA equals the single Prometheus's.
        expect(global.filter((x) => x.success === undefined)).toEqual([]);
        expect(global.map((x) => [x.t, (x.success ?? 0) >= 0.5])).toEqual(
          single.map((x) => [x.t, (x.success ?? 0) >= 0.5]),
        );
        expect(availability(global)).toBe(availability(single));
        expect(availability(global)).toBe(1);
        // Where a window holds none of the restarted member's samples, the global layer holds exactly the
        // peer's: the same figures to 1e-9 (the engines sum in different orders).
        const without = global.filter(
          (x) => !ownTimes.some((t) => t >= x.t - WINDOW_S - SCRAPE_S && t <= x.t),
        );
        expect(without.length).toBeGreaterThanOrEqual(1);
        for (const g of without) {
          const s = single.find((x) => x.t === g.t)!;
          for (const k of ['success', 'rtt'] as const) {
            const [got, want] = [g[k] ?? NaN, s[k] ?? NaN];
            expect({
              t: g.t,
              k,
              got,
              want: Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)) ? got : want,
            }).toEqual({
              t: g.t,
              k,
              got,
              want: got,
            });
          }
        }
        const outside = global.filter((x) => !without.includes(x));
        const maxDiff = (k: 'success' | 'rtt') =>
          Math.max(
            ...outside.map((x) => Math.abs((x[k] ?? 0) - (single.find((y) => y.t === x.t)?.[k] ?? 0))),
          );
        figures.push(
          `${link}: ${global.length} windows, ${gap.length} without data on the restarted member alone; ` +
            `${without.length} holding only the peer's samples (equal to 1e-9); elsewhere max |Δ| success ${maxDiff('success').toFixed(4)}, RTT ${(maxDiff('rtt') * 1000).toFixed(3)} ms`,
        );
      }
      console.log(
        `shard pair, member ${restarted} restarted (${DOWN_MS / 1000} s down): ${figures.join('; ')}`,
      );
    });

    it('gives billing’s month report through VictoriaMetrics equal to the single Prometheus’s, the restart not counted down', async () => {
      if (missing) return;
      const { restarted, peer, stoppedSample, restartSample, startedSample, keptOfRestarted } = r!;
      const [back, peerServer] = [members[restarted].server!, members[peer].server!];
      // Through the minute the member came back in: the minutes its own data misses lie before it.
      const span = { start: slaStart, end: ceilMinute(startedSample) };
      const { timeZone, month } = reportMonth(span.start, span.end);
      await waitFor(
        'every link’s samples past the span in the SLA store and both members',
        async () => {
          const at = prober!.sampleTime() / 1000;
          // From the span's end to the prober's present: a fixed 60 s window behind the prober's fast
          // clock (4 s of wall time) missed samples that remote_write delivered later than that.
          const window = Math.max(60, Math.ceil(at - span.end / 1000) + 60);
          const latest = await Promise.all(
            SLA_LINKS.flatMap(({ link }) =>
              [vmSla!.url, back.url, peerServer.url].map(async (u) =>
                (await sampleTimes(u, window, at, link)).at(-1),
              ),
            ),
          );
          if (latest.every((t) => t !== undefined && t * 1000 > span.end)) return true;
          throw new Error(`latest samples ${JSON.stringify(latest)} at ${at}, span end ${span.end / 1000}`);
        },
        { timeoutMs: 120_000 }, // remote_write lags by tens of seconds on a loaded machine
      );
      // The SLA store held the restarted member's samples before the stop, and only the peer's in the gap.
      const gapAt = restartSample / 1000;
      const gapSeconds = Math.floor((restartSample - stoppedSample) / 1000);
      const [inGap, peerInGap] = await Promise.all([
        sampleTimes(vmSla!.url, gapSeconds, gapAt, SLA_LINKS[0]!.link),
        sampleTimes(peerServer.url, gapSeconds, gapAt, SLA_LINKS[0]!.link),
      ]);
      expect(keptOfRestarted).toBeGreaterThanOrEqual(2);
      expect(inGap.length).toBeGreaterThanOrEqual(Math.floor(gapSeconds / DEDUP_SLA_S / 2));
      expect(inGap.filter((t) => !peerInGap.includes(t))).toEqual([]);

      const spanMinutes = (span.end - span.start) / 60_000;
      const figures: string[] = [];
      const say = (m: SlaMonth) =>
        `${m.minutes.down} down, ${m.minutes.noData} without data, availability ${m.availabilityPercent?.toFixed(3)} %, ` +
        `${m.incidents.length} incident(s), latency ${m.latency.meanMs?.toFixed(3)} ms, loss ${m.lossPercent?.toFixed(3)} %`;
      for (const sim of SLA_LINKS) {
        const link = slaLink(sim.link, timeZone);
        const [single, global, alone] = await Promise.all([
          slaOverSpan(peerServer.url, 'prometheus', link, month, span),
          slaOverSpan(vmSla!.url, 'victoriametrics', link, month, span),
          slaOverSpan(back.url, 'prometheus', link, month, span),
        ]);
        // The single Prometheus (the peer, which never stopped) measured what the prober did: every minute,
        // the outage as one incident, the links' loss and RTT.
        expect(single.minutes).toMatchObject({
          up: spanMinutes - OUTAGE_MINUTES,
          down: OUTAGE_MINUTES,
          noData: 0,
        });
        expect(single.incidents).toEqual([
          { start: new Date(outage[0]), end: new Date(outage[1]), durationMinutes: OUTAGE_MINUTES },
        ]);
        const lossPercent = ((spanMinutes - OUTAGE_MINUTES) * (1 - sim.answered) + OUTAGE_MINUTES) * 100;
        expect(single.lossPercent).toBeCloseTo(lossPercent / spanMinutes, 9);
        expect(single.latency.meanMs).toBeCloseTo(sim.rttSeconds * 1000, 9);
        // Through VictoriaMetrics (PROMETHEUS_ENGINE=victoriametrics): the same month, the restart not counted.
        expect(monthDifferences(global, single)).toEqual([]);
        // The restarted member alone would have counted the restart as down minutes.
        expect(alone.minutes.noData).toBeGreaterThanOrEqual(1);
        expect(alone.availabilityPercent!).toBeLessThan(single.availabilityPercent!);
        for (const p of alone.noDataPeriods) {
          expect(p.start.getTime()).toBeGreaterThanOrEqual(stoppedSample - 60_000);
          expect(p.end.getTime()).toBeLessThanOrEqual(startedSample + 60_000);
        }
        figures.push(`${sim.link}: single and global ${say(single)}; restarted member alone ${say(alone)}`);
      }
      console.log(
        `SLA month ${month} (${timeZone}) over ${spanMinutes} sample-time minutes, member ${restarted} ` +
          `stopped for ${(startedSample - stoppedSample) / 60_000} min of sample time: ${figures.join('; ')}`,
      );
    }, 180_000);
  });
});
