import fc from 'fast-check';
import { computeSlaMonth, creditAmountIdr, monthBounds, previousMonth } from './calc.js';
import type { MinuteSeries, SlaInput } from './types.js';

/** A series with one sample per minute of [start, end), value from `f(minuteStart)`; undefined = gap. */
function minutes(start: Date, end: Date, f: (s: number) => number | undefined): MinuteSeries {
  const out: Array<[number, number]> = [];
  for (let s = start.getTime(); s < end.getTime(); s += 60_000) {
    const v = f(s);
    if (v !== undefined) out.push([s / 1000 + 60, v]);
  }
  return out;
}

const tiers = {
  tiers: [
    { belowAvailabilityPercent: 99.5, creditPercent: 10 },
    { belowAvailabilityPercent: 99, creditPercent: 25 },
    { belowAvailabilityPercent: 95, creditPercent: 50 },
  ],
  capPercent: 30,
};

function month(m: string, tz: string, over: Partial<SlaInput> = {}): SlaInput {
  const { start, end } = monthBounds(m, tz);
  return {
    month: m,
    timeZone: tz,
    availability: minutes(start, end, () => 1),
    latencyMeanSeconds: minutes(start, end, () => 0.01),
    loss: minutes(start, end, () => 0),
    maintenance: [],
    noDataPolicy: 'exclude',
    commitments: { availabilityPercent: 99.5, latencyMs: 20, lossPercent: 1 },
    monthlyFeeIdr: 10_000_000n,
    creditPolicy: tiers,
    ...over,
  };
}

describe('SLA month', () => {
  it('bounds months at local midnight, including DST months', () => {
    expect(monthBounds('2026-04', 'Asia/Jakarta')).toEqual({
      start: new Date('2026-03-31T17:00:00Z'),
      end: new Date('2026-04-30T17:00:00Z'),
    });
    // Berlin: CET (+1) until 29 March 2026 02:00, then CEST (+2).
    const march = monthBounds('2026-03', 'Europe/Berlin');
    expect(march).toEqual({ start: new Date('2026-02-28T23:00:00Z'), end: new Date('2026-03-31T22:00:00Z') });
    expect((march.end.getTime() - march.start.getTime()) / 60_000).toBe(31 * 1440 - 60); // 44,580
    const october = monthBounds('2026-10', 'Europe/Berlin');
    expect((october.end.getTime() - october.start.getTime()) / 60_000).toBe(31 * 1440 + 60); // 44,700
    expect(previousMonth(new Date('2026-01-01T00:30:00+07:00'), 'Asia/Jakarta')).toBe('2025-12');
  });

  it('a clean 30-day month in Jakarta: 43,200 minutes up, nothing owed', () => {
    const r = computeSlaMonth(month('2026-04', 'Asia/Jakarta'));
    expect(r.minutes).toEqual({ total: 43_200, up: 43_200, down: 0, noData: 0, maintenance: 0 });
    expect(r.availabilityPercent).toBe(100);
    expect(r.incidents).toEqual([]);
    expect(r.latency).toEqual({ meanMs: 10, p95Ms: 10, minutes: 43_200 });
    expect(r.lossPercent).toBe(0);
    expect(r.breaches).toEqual({ availability: false, latency: false, loss: false });
    expect(r.credit).toEqual({ percent: 0, amountIdr: 0n });
    expect(r.days).toHaveLength(30);
    expect(r.hourly).toHaveLength(720);
  });

  it('37 minutes down: 99.9144 % (43,163 / 43,200), one incident, met', () => {
    const downFrom = new Date('2026-04-10T03:00:00Z').getTime();
    const input = month('2026-04', 'Asia/Jakarta');
    const { start, end } = monthBounds('2026-04', 'Asia/Jakarta');
    input.availability = minutes(start, end, (s) => (s >= downFrom && s < downFrom + 37 * 60_000 ? 0 : 1));
    const r = computeSlaMonth(input);
    expect(r.minutes.down).toBe(37);
    expect(r.availabilityPercent).toBeCloseTo((43_163 / 43_200) * 100, 10);
    expect(r.incidents).toEqual([
      { start: new Date(downFrom), end: new Date(downFrom + 37 * 60_000), durationMinutes: 37 },
    ]);
    expect(r.breaches.availability).toBe(false);
    expect(r.days[9]).toMatchObject({ date: '2026-04-10', downMinutes: 37, upMinutes: 1403 });
  });

  it('excludes maintenance: 300 minutes down inside a 6-hour window cost nothing', () => {
    const w = { start: new Date('2026-04-05T16:00:00Z'), end: new Date('2026-04-05T22:00:00Z') };
    const input = month('2026-04', 'Asia/Jakarta', { maintenance: [w] });
    const { start, end } = monthBounds('2026-04', 'Asia/Jakarta');
    input.availability = minutes(start, end, (s) =>
      s >= w.start.getTime() && s < w.start.getTime() + 300 * 60_000 ? 0 : 1,
    );
    const r = computeSlaMonth(input);
    expect(r.minutes).toEqual({ total: 43_200, up: 42_840, down: 0, noData: 0, maintenance: 360 });
    expect(r.availabilityPercent).toBe(100);
    expect(r.incidents).toEqual([]);
  });

  it('gaps: excluded and reported as coverage, or counted as down, by policy', () => {
    // 2 hours without data on 2026-04-20 plus 10 real down minutes.
    const gapFrom = new Date('2026-04-20T00:00:00Z').getTime();
    const downFrom = new Date('2026-04-21T00:00:00Z').getTime();
    const { start, end } = monthBounds('2026-04', 'Asia/Jakarta');
    const availability = minutes(start, end, (s) =>
      s >= gapFrom && s < gapFrom + 120 * 60_000
        ? undefined
        : s >= downFrom && s < downFrom + 10 * 60_000
          ? 0
          : 1,
    );
    const excluded = computeSlaMonth(
      month('2026-04', 'Asia/Jakarta', { availability, noDataPolicy: 'exclude' }),
    );
    expect(excluded.minutes).toEqual({ total: 43_200, up: 43_070, down: 10, noData: 120, maintenance: 0 });
    expect(excluded.availabilityPercent).toBeCloseTo((43_070 / 43_080) * 100, 10); // 99.9768 %
    expect(excluded.coveragePercent).toBeCloseTo((43_080 / 43_200) * 100, 10);
    expect(excluded.incidents.map((i) => i.durationMinutes)).toEqual([10]);
    const asDown = computeSlaMonth(month('2026-04', 'Asia/Jakarta', { availability, noDataPolicy: 'down' }));
    expect(asDown.availabilityPercent).toBeCloseTo((43_070 / 43_200) * 100, 10); // 99.6991 %
    expect(asDown.incidents.map((i) => i.durationMinutes)).toEqual([120, 10]);
  });

  it('DST month in Berlin: 44,580 minutes; the 23-hour day has 1,380 minutes', () => {
    const r = computeSlaMonth(month('2026-03', 'Europe/Berlin'));
    expect(r.minutes.total).toBe(44_580);
    expect(r.days).toHaveLength(31);
    expect(r.days[28]).toMatchObject({ date: '2026-03-29', upMinutes: 1380 });
    const ny = computeSlaMonth(month('2026-11', 'America/New_York'));
    expect(ny.minutes.total).toBe(30 * 1440 + 60); // 1 November 2026: clocks go back
    expect(ny.days[0]?.upMinutes).toBe(1500);
  });

  it('breaches and credit: 98 % availability → 25 % tier capped at 30 %, latency and loss judged on the month', () => {
    const { start, end } = monthBounds('2026-04', 'Asia/Jakarta');
    const input = month('2026-04', 'Asia/Jakarta', {
      availability: minutes(start, end, (s) => ((s - start.getTime()) / 60_000 < 864 ? 0 : 1)), // 864 = 2 % of 43,200
      latencyMeanSeconds: minutes(start, end, (s) =>
        ((s - start.getTime()) / 60_000) % 100 < 50 ? 0.015 : 0.03,
      ), // mean 22.5 ms
      loss: minutes(start, end, (s) => (((s - start.getTime()) / 60_000) % 10 === 0 ? 0.1 : 0)), // 1 %
      monthlyFeeIdr: 1_234_567_891n,
    });
    const r = computeSlaMonth(input);
    expect(r.availabilityPercent).toBeCloseTo(98, 10);
    expect(r.latency.meanMs).toBeCloseTo(22.5, 10);
    expect(r.latency.p95Ms).toBeCloseTo(30, 10);
    expect(r.lossPercent).toBeCloseTo(1, 10);
    expect(r.breaches).toEqual({ availability: true, latency: true, loss: false }); // loss 1 % is not above 1 %
    expect(r.credit).toEqual({ percent: 25, amountIdr: 308_641_972n }); // 1,234,567,891 × 25 % = 308,641,972.75
    expect(r.incidents).toEqual([
      { start, end: new Date(start.getTime() + 864 * 60_000), durationMinutes: 864 },
    ]);
    const worse = computeSlaMonth({
      ...input,
      availability: minutes(start, end, (s) => ((s - start.getTime()) / 60_000 < 4320 ? 0 : 1)),
    }); // 90 %
    expect(worse.credit.percent).toBe(30); // 50 % tier, capped at 30 %
  });

  it('fractional credit percentages stay exact', () => {
    expect(creditAmountIdr(999_999_999_999n, 2.5)).toBe(24_999_999_999n);
    expect(creditAmountIdr(150_000n, 33.33)).toBe(49_995n);
  });

  it('always accounts for every minute exactly once', () => {
    const { start } = monthBounds('2026-02', 'Asia/Jakarta');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40_319 }), fc.constantFrom(0, 1, undefined)), {
          maxLength: 300,
        }),
        fc.constantFrom<'down' | 'exclude'>('down', 'exclude'),
        (changes, policy) => {
          const values = new Map(changes.map(([i, v]) => [i, v]));
          const availability: Array<[number, number]> = [];
          for (let i = 0; i < 40_320; i++) {
            const v = values.has(i) ? values.get(i) : 1;
            if (v !== undefined) availability.push([start.getTime() / 1000 + i * 60 + 60, v]);
          }
          const r = computeSlaMonth(month('2026-02', 'Asia/Jakarta', { availability, noDataPolicy: policy }));
          const m = r.minutes;
          expect(m.up + m.down + m.noData + m.maintenance).toBe(m.total);
          const counted = m.down + (policy === 'down' ? m.noData : 0);
          expect(r.incidents.reduce((acc, i) => acc + i.durationMinutes, 0)).toBe(counted);
        },
      ),
      { numRuns: 25 },
    );
  });
});
