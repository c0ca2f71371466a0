// The minute rule does not depend on when rules run: raw probe counters (1 probe/s, scraped every 15 s)
// of an outage from 10:00:00 to 10:25:00, backfilled into a real Prometheus with the scrapes (and the
// shipped rules' evaluations) at the offsets a real deployment picks (:11/:41, :13/:43, :17/:47,
// :22/:52, :00/:30). The report reads exactly 25 down minutes and one 25-minute incident at every
// offset; the shipped link rules, evaluated at those offsets, hold LinkDown's condition for the outage.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PrometheusServer, startPrometheusWithHistory } from '@ispmon/testkit';
import { parse } from 'yaml';
import { computeSlaMonth } from './calc.js';
import { PROBE_COUNTERS, PrometheusSlaSource, successQuery } from './prometheus.js';

const OUTAGE_START = Date.parse('2026-04-10T10:00:00Z');
const OUTAGE_END = Date.parse('2026-04-10T10:25:00Z');
const FROM = Date.parse('2026-04-10T09:00:00Z');
const TO = Date.parse('2026-04-10T11:30:00Z');
const OFFSETS_S = [11, 13, 17, 22, 0];
const linkAt = (offset: number): string => `L-OFF-${offset}`;

const recording = parse(
  readFileSync(new URL('../../../prometheus/rules/recording.yml', import.meta.url), 'utf8'),
) as { groups: Array<{ rules: Array<{ record?: string; expr: string }> }> };
const ruleExpr = (name: string): string => {
  const rule = recording.groups.flatMap((g) => g.rules).find((r) => r.record === name);
  if (!rule) throw new Error(`recording.yml has no rule ${name}`);
  return rule.expr.trim();
};

/** Counters of one link scraped every 15 s from `offset` s past the minute; probes fail in the outage. */
function openMetrics(): string {
  const lines: string[] = [];
  for (const offset of OFFSETS_S) {
    const labels = `{link="${linkAt(offset)}",customer="C-1",router="core-1"}`;
    const sent: string[] = [];
    const received: string[] = [];
    let ok = 0;
    let all = 0;
    for (let t = FROM + offset * 1000; t < TO; t += 15_000) {
      for (let sec = t - 15_000; sec < t; sec += 1000) {
        all += 1;
        if (sec < OUTAGE_START || sec >= OUTAGE_END) ok += 1;
      }
      sent.push(`${PROBE_COUNTERS.sent}${labels} ${all} ${t / 1000}`);
      received.push(`${PROBE_COUNTERS.received}${labels} ${ok} ${t / 1000}`);
    }
    lines.push(...sent, ...received);
  }
  return `${lines.join('\n')}\n# EOF\n`;
}

describe('the minute rule at any rule-evaluation offset', () => {
  let prom: PrometheusServer;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ispmon-sla-offsets-'));
    writeFileSync(join(dir, 'probes.om'), openMetrics());
    prom = await startPrometheusWithHistory(join(dir, 'probes.om'));
  }, 180_000); // promtool backfill + start: over 60 s at load 15 (prometheus.test.ts)

  afterAll(async () => {
    await prom?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(OFFSETS_S)('reports exactly 25 down minutes, 10:00–10:25, scraped at :%i', async (offset) => {
    const source = new PrometheusSlaSource({ url: prom.url });
    const series = await source.linkSeries(linkAt(offset), new Date(FROM), new Date(TO));
    const month = computeSlaMonth({
      month: '2026-04',
      timeZone: 'UTC',
      ...series,
      maintenance: [],
      noDataPolicy: 'exclude',
      commitments: { availabilityPercent: 99.9, latencyMs: null, lossPercent: null },
      monthlyFeeIdr: 1_000_000n,
      creditPolicy: { tiers: [], capPercent: 0 },
    });
    // 150 minutes from 09:00 to 11:30, each with at least two scrapes in it; the rest of April has none.
    expect(month.minutes.down).toBe(25);
    expect(month.minutes.up).toBe(150 - 25);
    expect(month.minutes.noData).toBe(30 * 1440 - 150);
    expect(month.incidents).toEqual([
      { start: new Date(OUTAGE_START), end: new Date(OUTAGE_END), durationMinutes: 25 },
    ]);
  });

  it('evaluates the same ratio as the shipped rules, with the same threshold', () => {
    const normal = (s: string): string => s.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')');
    // The loss rule, per link, is 1 − the report's success fraction.
    expect(normal(ruleExpr('link:probe_loss:ratio_1m'))).toBe(
      normal(
        `1 - (${successQuery('X')
          .replaceAll('{link="X"}', '')
          .replaceAll('by (link)', 'by (link, customer, router)')})`,
      ),
    );
    // Down when more than half failed: loss > 0.5 ⇔ success < 0.5, the calculation's threshold.
    expect(ruleExpr('link:probe_availability:ratio_1m')).toBe('link:probe_loss:ratio_1m <= bool 0.5');
  });

  it.each(OFFSETS_S.filter((o) => o !== 0))(
    'holds LinkDown’s condition through the outage when rules run at :%i',
    async (offset) => {
      // What the rule manager records at each evaluation (every 30 s from `offset`): the shipped rules.
      const availability = ruleExpr('link:probe_availability:ratio_1m').replace(
        'link:probe_loss:ratio_1m',
        `(${ruleExpr('link:probe_loss:ratio_1m')})`,
      );
      const first = Date.parse('2026-04-10T09:30:00Z') / 1000 + offset;
      const params = new URLSearchParams({
        query: `(${availability}) and on (link) probe_packets_sent_total{link="${linkAt(offset)}"}`,
        start: String(first),
        end: String(first + 2 * 3600),
        step: '30',
      });
      const res = (await (await fetch(`${prom.url}/api/v1/query_range?${params.toString()}`)).json()) as {
        data: { result: Array<{ values: Array<[number, string]> }> };
      };
      const values = res.data.result[0]?.values ?? [];
      expect(values).toHaveLength(241);
      const downAt = values.filter(([, v]) => v === '0').map(([t]) => t * 1000);
      // One run of down evaluations: from the first whose minute is mostly outage to the last.
      expect(downAt.length).toBeGreaterThanOrEqual(49);
      expect(downAt.length).toBeLessThanOrEqual(51);
      for (let i = 1; i < downAt.length; i++) expect((downAt[i] ?? 0) - (downAt[i - 1] ?? 0)).toBe(30_000);
      expect(downAt[0]).toBeGreaterThan(OUTAGE_START + 29_000);
      expect(downAt[0]).toBeLessThanOrEqual(OUTAGE_START + 60_000);
      // LinkDown (ratio_1m == 0 for 2m) fires: the run lasts far longer than five evaluations.
      expect((downAt.at(-1) ?? 0) - (downAt[0] ?? 0)).toBeGreaterThan(120_000);
    },
  );
});
