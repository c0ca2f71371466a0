// Link minute series read back from a real Prometheus (Debian's) serving a month of raw probe counters
// backfilled with promtool (1 probe/s, scraped every 30 s at :05 and :35): each minute's success
// fraction and mean RTT come back as written, across chunk edges, with gaps kept as gaps; fed to the
// calculation they give the hand-computed month. Errors name the query.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type PrometheusServer, startPrometheusWithHistory } from '@ispmon/testkit';
import { computeSlaMonth, monthBounds } from './calc.js';
import { PROBE_COUNTERS, PrometheusSlaSource, successQuery, type LinkSeries } from './prometheus.js';
import type { SlaInput } from './types.js';

const MINUTE = 60_000;
const SCRAPE_MS = 30_000;
const SCRAPE_PHASE_MS = 5_000;
const at = (iso: string): number => Date.parse(iso);
const during = (from: string, minutes: number) => (s: number) =>
  s >= at(from) && s < at(from) + minutes * MINUTE;

// April 2026 in Jakarta: 2026-03-31T17:00Z to 2026-04-30T17:00Z, 43,200 minutes.
const { start, end } = monthBounds('2026-04', 'Asia/Jakarta');
const MARGIN = 3 * 3_600_000; // samples on either side of the month, which must not be read
const LINK = 'L-0042';
const DOWN = during('2026-04-10T03:00:00Z', 37); // no reply at all: success 0, loss 1, no latency
const GAP = during('2026-04-18T06:00:00Z', 30); // not scraped at all
const SLOW = during('2026-04-15T00:00:00Z', 1440); // 48 ms instead of 11 ms
const ROUTER_MOVE = at('2026-04-16T00:00:00Z'); // the `router` label changes: a second, fresh series
const NEIGHBOUR = 'L-00420'; // unrelated, always down; its code starts with LINK's
const NEIGHBOUR_DAY = during('2026-04-05T00:00:00Z', 1440);
const ODD = 'L-"9"\\x'; // a code that needs escaping, with one day of samples on 2 April
const ODD_DAY = during('2026-04-02T00:00:00Z', 1440);

interface Second {
  /** Share of the second's probe that got a reply (fractional: a loss of 0.2 % needs no 500 s run). */
  success: number;
  rttSeconds: number;
}

/** What each link's probe saw in the second starting at `t` (undefined: not scraped). */
const truth: Record<string, { scraped: (t: number) => boolean; second: (t: number) => Second }> = {
  [LINK]: {
    scraped: (t) => !GAP(t),
    second: (t) => ({ success: DOWN(t) ? 0 : 0.998, rttSeconds: SLOW(t) ? 0.048 : 0.011 }),
  },
  [NEIGHBOUR]: { scraped: NEIGHBOUR_DAY, second: () => ({ success: 0, rttSeconds: 0.5 }) },
  [ODD]: { scraped: ODD_DAY, second: () => ({ success: 1, rttSeconds: 0.007 }) },
};

interface Minute {
  availability: number;
  latencyMeanSeconds?: number;
  loss: number;
}

/** The minute starting at `s` as the report should read it: every second in it is alike here. */
function minuteOf(link: string, s: number): Minute | undefined {
  const t = truth[link];
  if (!t?.scraped(s)) return undefined;
  const { success, rttSeconds } = t.second(s);
  return success > 0
    ? { availability: success, latencyMeanSeconds: rttSeconds, loss: 1 - success }
    : { availability: 0, loss: 1 };
}

/** The series LinkSeries should hold for `link` over [from, to): one sample per minute end. */
function expected(link: string, from: number, to: number): LinkSeries {
  const out = { availability: [], latencyMeanSeconds: [], loss: [] } as Record<
    keyof LinkSeries,
    Array<[number, number]>
  >;
  for (let s = from; s < to; s += MINUTE) {
    const m = minuteOf(link, s);
    const t = s / 1000 + 60;
    if (!m) continue;
    out.availability.push([t, m.availability]);
    if (m.latencyMeanSeconds !== undefined) out.latencyMeanSeconds.push([t, m.latencyMeanSeconds]);
    out.loss.push([t, m.loss]);
  }
  return out;
}

/** Ratios of increases of float counters that grew for a month: equal to 9 decimals. */
function expectSeriesClose(got: LinkSeries, want: LinkSeries): void {
  for (const key of ['availability', 'latencyMeanSeconds', 'loss'] as const) {
    expect(got[key].map(([t]) => t)).toEqual(want[key].map(([t]) => t));
    const worst = got[key].reduce((m, [, v], i) => Math.max(m, Math.abs(v - (want[key][i]?.[1] ?? NaN))), 0);
    expect(worst).toBeLessThan(1e-9);
  }
}

function openMetricsLabel(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** OpenMetrics text of every link's probe counters, from MARGIN before the month to MARGIN after it. */
function openMetrics(): string {
  const lines: string[] = [];
  for (const [link, t] of Object.entries(truth)) {
    const series = new Map<string, string[]>(); // labels → samples, each in time order
    const counters = new Map<string, { sent: number; received: number; rttSum: number }>();
    for (let s = start.getTime() - MARGIN + SCRAPE_PHASE_MS; s < end.getTime() + MARGIN; s += SCRAPE_MS) {
      const router = link === LINK && s >= ROUTER_MOVE ? 'core-2' : 'core-1';
      const labels = `{link=${openMetricsLabel(link)},customer="C-042",router="${router}"}`;
      const c = counters.get(labels) ?? { sent: 0, received: 0, rttSum: 0 };
      counters.set(labels, c);
      for (let sec = s - SCRAPE_MS; sec < s; sec += 1000) {
        const { success, rttSeconds } = t.second(sec);
        c.sent += 1;
        c.received += success;
        c.rttSum += success * rttSeconds;
      }
      if (!t.scraped(s)) continue;
      const samples = series.get(labels) ?? [];
      const ts = s / 1000;
      samples.push(
        `${PROBE_COUNTERS.sent}${labels} ${c.sent} ${ts}`,
        `${PROBE_COUNTERS.received}${labels} ${c.received} ${ts}`,
        `${PROBE_COUNTERS.rttSum}${labels} ${c.rttSum} ${ts}`,
        `${PROBE_COUNTERS.rttCount}${labels} ${c.received} ${ts}`,
      );
      series.set(labels, samples);
    }
    // OpenMetrics wants each series' samples together: split the interleaved lines by metric.
    for (const samples of series.values())
      for (const metric of Object.values(PROBE_COUNTERS))
        lines.push(...samples.filter((l) => l.startsWith(`${metric}{`)));
  }
  return `${lines.join('\n')}\n# EOF\n`;
}

/** A fetch that records each range query's parameters. */
function recordingFetch(calls: URLSearchParams[]): typeof fetch {
  return (input, init) => {
    calls.push(new URL(input instanceof Request ? input.url : String(input)).searchParams);
    return fetch(input, init);
  };
}

describe('Prometheus link series', () => {
  let prom: PrometheusServer;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ispmon-sla-prom-'));
    writeFileSync(join(dir, 'month.om'), openMetrics());
    // Two-hour blocks by default: promtool would write ~370 of them, re-reading the whole file for
    // each (minutes); a month-long block takes two seconds. (The flag is hidden in promtool 2.42.)
    prom = await startPrometheusWithHistory(join(dir, 'month.om'), { maxBlockDuration: '768h' });
  }, 180_000); // promtool backfill + start: over 60 s seen under load 15 in a clean-clone CI run

  afterAll(async () => {
    await prom?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a month back exactly as written, chunk edges without gaps or duplicates', async () => {
    // 43,200 points in chunks of at most 4,321: nine of 4,321 and one of 4,311, per series.
    const calls: URLSearchParams[] = [];
    const source = new PrometheusSlaSource({
      url: prom.url,
      maxPointsPerQuery: 4_321,
      fetch: recordingFetch(calls),
    });
    const got = await source.linkSeries(LINK, start, end);
    const want = expected(LINK, start.getTime(), end.getTime());
    expect(got.availability).toHaveLength(43_200 - 30); // the gap stays a gap
    expect(got.latencyMeanSeconds).toHaveLength(43_200 - 30 - 37); // no replies while down
    expectSeriesClose(got, want);

    expect(calls).toHaveLength(20); // success and latency, ten chunks each; loss is 1 − success
    for (const metric of [PROBE_COUNTERS.received, PROBE_COUNTERS.rttSum]) {
      const chunks = calls
        .filter((p) => p.get('query')?.includes(metric))
        .map((p) => [Number(p.get('start')), Number(p.get('end'))] as const)
        .sort((a, b) => a[0] - b[0]);
      expect(chunks).toHaveLength(10);
      expect(chunks[0]?.[0]).toBe(start.getTime() / 1000 + 60); // the month's first minute end
      expect(chunks.at(-1)?.[1]).toBe(end.getTime() / 1000); // its last
      for (const [i, [from, to]] of chunks.entries()) {
        expect((to - from) / 60 + 1).toBeLessThanOrEqual(4_321);
        if (i > 0) expect(from).toBe((chunks[i - 1]?.[1] ?? NaN) + 60);
      }
    }
  });

  it('feeds the calculation the hand-computed month', async () => {
    const source = new PrometheusSlaSource({ url: prom.url }); // 10,000 points: five queries per series
    const series = await source.linkSeries(LINK, start, end);
    const input: SlaInput = {
      month: '2026-04',
      timeZone: 'Asia/Jakarta',
      ...series,
      maintenance: [],
      noDataPolicy: 'exclude',
      commitments: { availabilityPercent: 99.95, latencyMs: 20, lossPercent: 1 },
      monthlyFeeIdr: 12_500_000n,
      creditPolicy: {
        tiers: [
          { belowAvailabilityPercent: 99.95, creditPercent: 10 },
          { belowAvailabilityPercent: 99.5, creditPercent: 25 },
        ],
        capPercent: 50,
      },
    };
    const r = computeSlaMonth(input);
    // 43,200 minutes: 37 down, 30 without data, 43,133 up.
    expect(r.minutes).toEqual({ total: 43_200, up: 43_133, down: 37, noData: 30, maintenance: 0 });
    expect(r.availabilityPercent).toBeCloseTo((43_133 / 43_170) * 100, 10); // 99.9143 % < 99.95 %
    expect(r.coveragePercent).toBeCloseTo((43_170 / 43_200) * 100, 10);
    expect(r.incidents).toEqual([
      { start: new Date('2026-04-10T03:00:00Z'), end: new Date('2026-04-10T03:37:00Z'), durationMinutes: 37 },
    ]);
    // Latency over the 43,133 minutes with replies, 1,440 of them at 48 ms (3.3 %, so p95 is 11 ms).
    expect(r.latency.minutes).toBe(43_133);
    expect(r.latency.meanMs).toBeCloseTo((11 * (43_133 - 1440) + 48 * 1440) / 43_133, 6); // 12.235 ms
    expect(r.latency.p95Ms).toBeCloseTo(11, 6);
    // Loss over the 43,170 minutes with a sample: 43,133 × 0.2 % and 37 × 100 %.
    expect(r.lossPercent).toBeCloseTo(((43_133 * 0.002 + 37) / 43_170) * 100, 6); // 0.2856 %
    expect(r.breaches).toEqual({ availability: true, latency: false, loss: false });
    expect(r.credit).toEqual({ percent: 10, amountIdr: 1_250_000n }); // under 99.95, not under 99.5

    // Counting the 30 unmeasured minutes as down: 43,133 / 43,200 = 99.8449 %, two incidents.
    const strict = computeSlaMonth({ ...input, noDataPolicy: 'down' });
    expect(strict.availabilityPercent).toBeCloseTo((43_133 / 43_200) * 100, 10);
    expect(strict.incidents.map((i) => i.durationMinutes)).toEqual([37, 30]);
  });

  it('reads only minutes wholly inside [start, end), at up to 11,000 points per query', async () => {
    const source = new PrometheusSlaSource({ url: prom.url, maxPointsPerQuery: 11_000 });
    // From 30 s into the month to 3 min 10 s: the minutes starting at 1 and 2 min, samples at 2 and 3 min.
    const t0 = start.getTime();
    const short = await source.linkSeries(LINK, new Date(t0 + 30_000), new Date(t0 + 190_000));
    expect(short.availability.map(([t]) => t)).toEqual([t0 / 1000 + 120, t0 / 1000 + 180]);
    expect(short.availability.map(([, v]) => v.toFixed(12))).toEqual(['0.998000000000', '0.998000000000']);
    expect(await source.linkSeries(LINK, end, end)).toEqual({
      availability: [],
      latencyMeanSeconds: [],
      loss: [],
    });
    // The whole month with the margins around it, in chunks of exactly Prometheus's limit.
    const wide = await source.linkSeries(
      LINK,
      new Date(start.getTime() - MARGIN),
      new Date(end.getTime() + MARGIN),
    );
    expectSeriesClose(wide, expected(LINK, start.getTime() - MARGIN, end.getTime() + MARGIN));
    // Prometheus itself refuses a query spanning more than 11,000 steps.
    const params = new URLSearchParams({
      query: successQuery(LINK),
      start: String(start.getTime() / 1000),
      end: String(start.getTime() / 1000 + 11_001 * 60),
      step: '60',
    });
    const refused = await fetch(`${prom.url}/api/v1/query_range?${params.toString()}`);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('exceeded maximum resolution of 11,000 points');
  });

  it('quotes the link code: quotes and backslashes select only that link', async () => {
    const source = new PrometheusSlaSource({ url: prom.url });
    const got = await source.linkSeries(ODD, start, end);
    expectSeriesClose(got, expected(ODD, start.getTime(), end.getTime()));
    expect(got.availability).toHaveLength(1440);
    expect(successQuery(ODD)).toContain('{link="L-\\"9\\"\\\\x"}');
    expect(await source.linkSeries('L-004', start, end)).toEqual({
      availability: [],
      latencyMeanSeconds: [],
      loss: [],
    });
  });

  describe('errors name the query', () => {
    const oneHour = [start, new Date(start.getTime() + 3_600_000)] as const;

    it('passes on Prometheus’s own error', async () => {
      const source = new PrometheusSlaSource({ url: prom.url });
      await expect(source.range('sum(', ...oneHour)).rejects.toThrow(
        /^Prometheus refused the query sum\( from 2026-03-31T17:01:00.000Z to 2026-03-31T18:00:00.000Z: bad_data: .*parse error.* \(HTTP 400\)$/,
      );
    });

    it('reports an HTTP status without JSON', async () => {
      const source = new PrometheusSlaSource({
        url: 'http://prometheus.invalid/',
        fetch: () => Promise.resolve(new Response('<html>502 Bad Gateway</html>', { status: 502 })),
      });
      await expect(source.linkSeries(LINK, ...oneHour)).rejects.toThrow(
        /^Prometheus answered HTTP 502 with no JSON \(<html>502 Bad Gateway<\/html>\): query sum by \(link\) \(increase\(probe_packets_received_total\{link="L-0042"\}\[1m\]\)\) \/ \(sum by \(link\) \(increase\(probe_packets_sent_total\{link="L-0042"\}\[1m\]\)\) > 0\) from 2026-03-31T17:01:00.000Z/,
      );
    });

    it('reports more than one series', async () => {
      const body = {
        status: 'success',
        data: {
          resultType: 'matrix',
          result: [
            { metric: { link: 'a' }, values: [[1, '1']] },
            { metric: { link: 'b' }, values: [[1, '1']] },
          ],
        },
      };
      const source = new PrometheusSlaSource({
        url: 'http://prometheus.invalid',
        fetch: () => Promise.resolve(Response.json(body)),
      });
      await expect(source.range('x', ...oneHour)).rejects.toThrow(
        'Prometheus returned 2 series where one was expected: query x from',
      );
    });

    it('gives up on a Prometheus that does not answer', async () => {
      const silent = createServer(() => undefined); // accepts, never answers
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const { port } = silent.address() as { port: number };
      try {
        const source = new PrometheusSlaSource({ url: `http://127.0.0.1:${port}`, timeoutMs: 300 });
        await expect(source.linkSeries(LINK, ...oneHour)).rejects.toThrow(
          new RegExp(
            `^Prometheus at http://127.0.0.1:${port} did not answer within 300 ms: query .*probe_packets_`,
          ),
        );
      } finally {
        silent.closeAllConnections();
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    it('reports a Prometheus that is not there', async () => {
      const port = await freePort();
      const source = new PrometheusSlaSource({ url: `http://127.0.0.1:${port}` });
      await expect(source.range('up', ...oneHour)).rejects.toThrow(
        new RegExp(
          `^Prometheus at http://127.0.0.1:${port} unreachable: fetch failed \\(.*ECONNREFUSED.*\\): query up`,
        ),
      );
    });

    it('refuses a chunk size Prometheus would refuse', () => {
      expect(() => new PrometheusSlaSource({ url: prom.url, maxPointsPerQuery: 12_000 })).toThrow(
        'maxPointsPerQuery must be a whole number from 1 to 11000, got 12000',
      );
    });
  });
});
