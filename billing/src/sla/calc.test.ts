// The monthly SLA calculation on hand-computed months. Each test states its arithmetic; times are UTC
// unless a comment says "local".
import fc from 'fast-check';
import {
  computeSlaMonth,
  creditAmountIdr,
  creditPercentFor,
  monthBounds,
  previousMonth,
  validateSlaInput,
} from './calc.js';
import type { MinuteSeries, SlaInput } from './types.js';

const MINUTE = 60_000;
const at = (iso: string): number => Date.parse(iso);

/** One sample per minute of [start, end) at the minute's end, value `f(minuteStart)`; undefined = gap. */
function series(start: Date, end: Date, f: (s: number) => number | undefined): MinuteSeries {
  const out: Array<[number, number]> = [];
  for (let s = start.getTime(); s < end.getTime(); s += MINUTE) {
    const v = f(s);
    if (v !== undefined) out.push([s / 1000 + 60, v]);
  }
  return out;
}

/** f(s) is true for minutes starting in [from, from + count minutes). */
const during = (from: string, count: number) => (s: number) => s >= at(from) && s < at(from) + count * MINUTE;

const tiers = {
  tiers: [
    { belowAvailabilityPercent: 99.5, creditPercent: 10 },
    { belowAvailabilityPercent: 99, creditPercent: 25 },
    { belowAvailabilityPercent: 95, creditPercent: 50 },
  ],
  capPercent: 30,
};

/** A perfect month (always up, 10 ms, no loss) unless overridden; `down` marks down minutes. */
function month(
  m: string,
  timeZone: string,
  over: Partial<SlaInput> & { down?: (s: number) => boolean } = {},
): SlaInput {
  const { start, end } = monthBounds(m, timeZone);
  const { down = () => false, ...rest } = over;
  return {
    month: m,
    timeZone,
    availability: series(start, end, (s) => (down(s) ? 0 : 1)),
    latencyMeanSeconds: series(start, end, () => 0.01),
    loss: series(start, end, () => 0),
    maintenance: [],
    noDataPolicy: 'exclude',
    commitments: { availabilityPercent: 99.5, latencyMs: 20, lossPercent: 1 },
    monthlyFeeIdr: 10_000_000n,
    creditPolicy: tiers,
    ...rest,
  };
}

const minutesOf = (b: { start: Date; end: Date }): number => (b.end.getTime() - b.start.getTime()) / MINUTE;

describe('month bounds in the link’s zone', () => {
  it('starts and ends a Jakarta month at local midnight (UTC+7, no DST): 30 × 1,440 = 43,200 minutes', () => {
    const april = monthBounds('2026-04', 'Asia/Jakarta');
    expect(april).toEqual({ start: new Date('2026-03-31T17:00:00Z'), end: new Date('2026-04-30T17:00:00Z') });
    expect(minutesOf(april)).toBe(43_200);
  });

  it('gives Berlin’s March one hour less and October one hour more', () => {
    // CET (+1) until 29 March 01:00 UTC, then CEST (+2); back to CET on 25 October 01:00 UTC.
    const march = monthBounds('2026-03', 'Europe/Berlin');
    expect(march).toEqual({ start: new Date('2026-02-28T23:00:00Z'), end: new Date('2026-03-31T22:00:00Z') });
    expect(minutesOf(march)).toBe(31 * 1440 - 60); // 44,580
    const october = monthBounds('2026-10', 'Europe/Berlin');
    expect(october).toEqual({
      start: new Date('2026-09-30T22:00:00Z'),
      end: new Date('2026-10-31T23:00:00Z'),
    });
    expect(minutesOf(october)).toBe(31 * 1440 + 60); // 44,700
  });

  it('follows New York’s changes (8 March and 1 November 2026)', () => {
    const march = monthBounds('2026-03', 'America/New_York');
    expect(march).toEqual({ start: new Date('2026-03-01T05:00:00Z'), end: new Date('2026-04-01T04:00:00Z') });
    expect(minutesOf(march)).toBe(44_580);
    const november = monthBounds('2026-11', 'America/New_York');
    expect(november).toEqual({
      start: new Date('2026-11-01T04:00:00Z'),
      end: new Date('2026-12-01T05:00:00Z'),
    });
    expect(minutesOf(november)).toBe(30 * 1440 + 60); // 43,260
  });

  it('starts a day at 01:00 where the zone skips midnight (Santiago, 6 September 2026)', () => {
    // Chile goes from −04 to −03 at local midnight: 6 September starts at 04:00 UTC, which reads 01:00.
    const r = computeSlaMonth(month('2026-09', 'America/Santiago'));
    expect(r.periodStart).toEqual(new Date('2026-09-01T04:00:00Z'));
    expect(r.periodEnd).toEqual(new Date('2026-10-01T03:00:00Z'));
    expect(r.minutes.total).toBe(30 * 1440 - 60);
    expect(r.days.slice(4, 6).map((d) => [d.date, d.upMinutes])).toEqual([
      ['2026-09-05', 1440],
      ['2026-09-06', 1380],
    ]);
    // …and back on 5 April: 23:00 on the 4th happens twice, so the 4th has 25 hours.
    const april = computeSlaMonth(month('2026-04', 'America/Santiago'));
    expect(april.minutes.total).toBe(30 * 1440 + 60);
    expect(april.days[3]).toMatchObject({ date: '2026-04-04', upMinutes: 1500 });
  });

  it('names the previous month in the zone, and refuses what it cannot read', () => {
    expect(previousMonth(new Date('2026-01-01T00:30:00+07:00'), 'Asia/Jakarta')).toBe('2025-12');
    expect(previousMonth(new Date('2026-01-01T00:30:00+07:00'), 'Europe/Berlin')).toBe('2025-11');
    expect(() => monthBounds('2026-13', 'Asia/Jakarta')).toThrow(
      "month must look like 2026-03, got '2026-13'",
    );
    expect(() => monthBounds('2026-04', 'Asia/Atlantis')).toThrow("unknown time zone 'Asia/Atlantis'");
  });
});

describe('the SLA of a month', () => {
  it('a clean 30-day month in Jakarta: 43,200 minutes up, nothing owed', () => {
    const r = computeSlaMonth(month('2026-04', 'Asia/Jakarta'));
    expect(r.minutes).toEqual({ total: 43_200, up: 43_200, down: 0, noData: 0, maintenance: 0 });
    expect(r.availabilityPercent).toBe(100);
    expect(r.coveragePercent).toBe(100);
    expect(r.incidents).toEqual([]);
    expect(r.latency).toEqual({ meanMs: 10, p95Ms: 10, minutes: 43_200 });
    expect(r.lossPercent).toBe(0);
    expect(r.breaches).toEqual({ availability: false, latency: false, loss: false });
    expect(r.credit).toEqual({ percent: 0, amountIdr: 0n });
    expect(r.days).toHaveLength(30);
    expect(r.days.every((d) => d.upMinutes === 1440 && d.availabilityPercent === 100)).toBe(true);
    expect(r.hourly).toHaveLength(720);
    expect(r.hourly[0]).toEqual({ start: new Date('2026-03-31T17:00:00Z'), latencyMs: 10, lossPercent: 0 });
  });

  it('37 minutes down: 43,163 / 43,200 = 99.91435 % (99.9143 truncated), one incident, commitment met', () => {
    // 10:00–10:37 local on 10 April.
    const r = computeSlaMonth(month('2026-04', 'Asia/Jakarta', { down: during('2026-04-10T03:00:00Z', 37) }));
    expect(r.minutes).toEqual({ total: 43_200, up: 43_163, down: 37, noData: 0, maintenance: 0 });
    expect(r.availabilityPercent).toBeCloseTo(99.914351851, 8);
    expect(r.incidents).toEqual([
      { start: new Date('2026-04-10T03:00:00Z'), end: new Date('2026-04-10T03:37:00Z'), durationMinutes: 37 },
    ]);
    expect(r.breaches.availability).toBe(false); // 99.914 ≥ 99.5
    expect(r.credit.percent).toBe(0);
    expect(r.days[9]).toMatchObject({ date: '2026-04-10', downMinutes: 37, upMinutes: 1403 });
    expect(r.days[9]?.availabilityPercent).toBeCloseTo((1403 / 1440) * 100, 10);
  });

  it('counts a minute as maintenance when its start lies inside a window, and excludes it from everything', () => {
    // Window 16:00:30–22:00 UTC on 5 April (23:00:30 local on the 5th to 05:00 local on the 6th): the
    // minute starting 16:00 began before it, so minutes 16:01 … 21:59 are maintenance: 359 minutes,
    // 59 of them on local 5 April and 300 on the 6th. A second window inside the first adds nothing.
    // The link is down 16:00–21:00 (300 minutes) and its latency 1 s all through the window.
    const w = { start: new Date('2026-04-05T16:00:30Z'), end: new Date('2026-04-05T22:00:00Z') };
    const inside = { start: new Date('2026-04-05T18:00:00Z'), end: new Date('2026-04-05T19:00:00Z') };
    const { start, end } = monthBounds('2026-04', 'Asia/Jakarta');
    const r = computeSlaMonth(
      month('2026-04', 'Asia/Jakarta', {
        down: during('2026-04-05T16:00:00Z', 300),
        latencyMeanSeconds: series(start, end, (s) =>
          s >= w.start.getTime() && s < w.end.getTime() ? 1 : 0.01,
        ),
        maintenance: [inside, w],
      }),
    );
    // Only the 16:00 minute of the outage counts: 43,200 − 359 − 1 = 42,840 up of 42,841.
    expect(r.minutes).toEqual({ total: 43_200, up: 42_840, down: 1, noData: 0, maintenance: 359 });
    expect(r.availabilityPercent).toBeCloseTo((42_840 / 42_841) * 100, 10);
    expect(r.incidents).toEqual([
      { start: new Date('2026-04-05T16:00:00Z'), end: new Date('2026-04-05T16:01:00Z'), durationMinutes: 1 },
    ]);
    expect(r.coveragePercent).toBe(100);
    expect(r.latency).toMatchObject({ meanMs: 10, minutes: 43_200 - 359 }); // the second-long minutes were maintenance
    expect(r.days[4]).toMatchObject({ date: '2026-04-05', maintenanceMinutes: 59, downMinutes: 1 });
    expect(r.days[5]).toMatchObject({ date: '2026-04-06', maintenanceMinutes: 300, upMinutes: 1140 });
    // The hour from 17:00 UTC lies wholly in the window: no chart point.
    const hour = r.hourly.find((h) => h.start.getTime() === at('2026-04-05T17:00:00Z'));
    expect(hour).toEqual({ start: new Date('2026-04-05T17:00:00Z'), latencyMs: null, lossPercent: null });
  });

  it('ends an incident when maintenance begins, and starts a new one when it ends', () => {
    // Down 09:50–10:20; maintenance 10:00–10:10 → two incidents of 10 minutes, 20 minutes counted down.
    const r = computeSlaMonth(
      month('2026-04', 'Asia/Jakarta', {
        down: during('2026-04-15T09:50:00Z', 30),
        maintenance: [{ start: new Date('2026-04-15T10:00:00Z'), end: new Date('2026-04-15T10:10:00Z') }],
      }),
    );
    expect(r.minutes).toMatchObject({ down: 20, maintenance: 10, up: 43_170 });
    expect(r.incidents.map((i) => [i.start.toISOString(), i.durationMinutes])).toEqual([
      ['2026-04-15T09:50:00.000Z', 10],
      ['2026-04-15T10:10:00.000Z', 10],
    ]);
  });

  it('clips maintenance windows and incidents to the month', () => {
    // A window from 16:00 UTC on 31 March to 17:30 covers the month's first 30 minutes; an outage
    // running past the month's end (17:00 UTC on 30 April) is cut there: 20 minutes.
    const r = computeSlaMonth(
      month('2026-04', 'Asia/Jakarta', {
        down: during('2026-04-30T16:40:00Z', 60),
        maintenance: [{ start: new Date('2026-03-31T16:00:00Z'), end: new Date('2026-03-31T17:30:00Z') }],
      }),
    );
    expect(r.minutes).toEqual({ total: 43_200, up: 43_150, down: 20, noData: 0, maintenance: 30 });
    expect(r.incidents).toEqual([
      { start: new Date('2026-04-30T16:40:00Z'), end: new Date('2026-04-30T17:00:00Z'), durationMinutes: 20 },
    ]);
  });

  it('gaps: excluded and reported as coverage, or counted as down, by policy', () => {
    // 120 minutes without data on 20 April, 10 real down minutes on the 21st, and a 5-minute gap inside
    // a 15-minute outage on the 22nd (5 down, 5 gap, 5 down).
    const { start, end } = monthBounds('2026-04', 'Asia/Jakarta');
    const gap = (s: number): boolean =>
      during('2026-04-20T00:00:00Z', 120)(s) || during('2026-04-22T00:05:00Z', 5)(s);
    const down = (s: number): boolean =>
      during('2026-04-21T00:00:00Z', 10)(s) || during('2026-04-22T00:00:00Z', 15)(s);
    const availability = series(start, end, (s) => (gap(s) ? undefined : down(s) ? 0 : 1));

    // exclude: up 43,200 − 125 − 20 = 43,055; availability 43,055 / 43,075; coverage 43,075 / 43,200.
    const excluded = computeSlaMonth(
      month('2026-04', 'Asia/Jakarta', { availability, noDataPolicy: 'exclude' }),
    );
    expect(excluded.minutes).toEqual({ total: 43_200, up: 43_055, down: 20, noData: 125, maintenance: 0 });
    expect(excluded.availabilityPercent).toBeCloseTo((43_055 / 43_075) * 100, 10); // 99.9536 %
    expect(excluded.coveragePercent).toBeCloseTo((43_075 / 43_200) * 100, 10); // 99.7106 %
    expect(excluded.incidents.map((i) => i.durationMinutes)).toEqual([10, 5, 5]); // the gap splits the outage
    expect(excluded.days[19]).toMatchObject({ date: '2026-04-20', noDataMinutes: 120, upMinutes: 1320 });
    expect(excluded.days[19]?.availabilityPercent).toBe(100);

    // down: 43,055 / 43,200 (99.6644 %); the gaps are still reported as no-data minutes.
    const asDown = computeSlaMonth(month('2026-04', 'Asia/Jakarta', { availability, noDataPolicy: 'down' }));
    expect(asDown.minutes).toEqual(excluded.minutes);
    expect(asDown.availabilityPercent).toBeCloseTo((43_055 / 43_200) * 100, 10);
    expect(asDown.coveragePercent).toBeCloseTo((43_075 / 43_200) * 100, 10);
    expect(asDown.incidents.map((i) => i.durationMinutes)).toEqual([120, 10, 15]);
    expect(asDown.days[19]?.availabilityPercent).toBeCloseTo((1320 / 1440) * 100, 10);
    // The unmeasured runs are listed under either policy, so a report can say which minutes they were.
    const gaps = [
      {
        start: new Date('2026-04-20T00:00:00Z'),
        end: new Date('2026-04-20T02:00:00Z'),
        durationMinutes: 120,
      },
      { start: new Date('2026-04-22T00:05:00Z'), end: new Date('2026-04-22T00:10:00Z'), durationMinutes: 5 },
    ];
    expect(excluded.noDataPeriods).toEqual(gaps);
    expect(asDown.noDataPeriods).toEqual(gaps);
  });

  it('charts hourly loss over up minutes only: an outage minute’s 100 % stays out', () => {
    // 30 minutes down (loss 1) and 30 up at 2 % loss in the hour from 03:00 UTC on 10 April.
    const { start, end } = monthBounds('2026-04', 'Asia/Jakarta');
    const down = during('2026-04-10T03:00:00Z', 30);
    const r = computeSlaMonth(
      month('2026-04', 'Asia/Jakarta', {
        down,
        loss: series(start, end, (s) => (down(s) ? 1 : during('2026-04-10T03:30:00Z', 30)(s) ? 0.02 : 0)),
      }),
    );
    const i = r.hourly.findIndex((h) => h.start.getTime() === Date.parse('2026-04-10T03:00:00Z'));
    expect(r.hourly[i]?.lossPercent).toBeCloseTo(51, 10); // (30 × 100 + 30 × 2) / 60
    expect(r.hourlyUpLossPercent[i]).toBeCloseTo(2, 10);
    expect(r.hourlyUpLossPercent).toHaveLength(r.hourly.length);
  });

  it('DST month in Berlin: 44,580 minutes; an outage across the change lasts its real 90 minutes', () => {
    // 00:30–02:00 UTC on 29 March reads 01:30 CET → 04:00 CEST: 90 minutes, on the 23-hour local day.
    const r = computeSlaMonth(
      month('2026-03', 'Europe/Berlin', { down: during('2026-03-29T00:30:00Z', 90) }),
    );
    expect(r.minutes).toEqual({ total: 44_580, up: 44_490, down: 90, noData: 0, maintenance: 0 });
    expect(r.availabilityPercent).toBeCloseTo((44_490 / 44_580) * 100, 10); // 99.7981 %
    expect(r.incidents).toEqual([
      { start: new Date('2026-03-29T00:30:00Z'), end: new Date('2026-03-29T02:00:00Z'), durationMinutes: 90 },
    ]);
    expect(r.days).toHaveLength(31);
    expect(r.days[28]).toMatchObject({ date: '2026-03-29', upMinutes: 1380 - 90, downMinutes: 90 });
    expect(r.hourly).toHaveLength(743);
    expect(r.credit.percent).toBe(0); // 99.798 ≥ 99.5

    const october = computeSlaMonth(month('2026-10', 'Europe/Berlin'));
    expect(october.minutes.total).toBe(44_700);
    expect(october.days[24]).toMatchObject({ date: '2026-10-25', upMinutes: 1500 });
    expect(october.hourly).toHaveLength(745);
  });

  it('DST months in New York: 23-hour 8 March, 25-hour 1 November', () => {
    const march = computeSlaMonth(month('2026-03', 'America/New_York'));
    expect(march.minutes.total).toBe(44_580);
    expect(march.days[7]).toMatchObject({ date: '2026-03-08', upMinutes: 1380 });
    const november = computeSlaMonth(month('2026-11', 'America/New_York'));
    expect(november.minutes.total).toBe(43_260);
    expect(november.days[0]).toMatchObject({ date: '2026-11-01', upMinutes: 1500 });
    expect(november.days[1]).toMatchObject({ date: '2026-11-02', upMinutes: 1440 });
  });

  it('starts hourly points on local hours in a half-hour zone (Asia/Kolkata, UTC+5:30)', () => {
    const r = computeSlaMonth(month('2026-04', 'Asia/Kolkata'));
    expect(r.hourly).toHaveLength(720);
    expect(r.hourly[0]?.start).toEqual(new Date('2026-03-31T18:30:00Z'));
    expect(r.hourly[1]?.start).toEqual(new Date('2026-03-31T19:30:00Z'));
  });

  it('averages latency and loss per hour for the charts', () => {
    // In the first hour, 30 minutes at 10 ms and 30 at 30 ms → 20 ms; loss 2 % on 15 minutes → 0.5 %.
    const { start, end } = monthBounds('2026-04', 'Asia/Jakarta');
    const minuteOf = (s: number): number => (s - start.getTime()) / MINUTE;
    const r = computeSlaMonth(
      month('2026-04', 'Asia/Jakarta', {
        latencyMeanSeconds: series(start, end, (s) => (minuteOf(s) >= 30 && minuteOf(s) < 60 ? 0.03 : 0.01)),
        loss: series(start, end, (s) => (minuteOf(s) < 15 ? 0.02 : 0)),
      }),
    );
    expect(r.hourly[0]?.latencyMs).toBeCloseTo(20, 10);
    expect(r.hourly[0]?.lossPercent).toBeCloseTo(0.5, 10);
    expect(r.hourly[1]).toMatchObject({ latencyMs: 10, lossPercent: 0 });
  });
});

describe('latency and loss', () => {
  it('takes p95 by nearest rank over the per-minute means', () => {
    // 20 minutes with replies at 1, 2, …, 20 ms: mean 10.5; rank ⌈0.95 × 20⌉ = 19 → 19 ms.
    const { start, end } = monthBounds('2026-04', 'Asia/Jakarta');
    const minuteOf = (s: number): number => (s - start.getTime()) / MINUTE;
    const twenty = computeSlaMonth(
      month('2026-04', 'Asia/Jakarta', {
        latencyMeanSeconds: series(start, end, (s) =>
          minuteOf(s) < 20 ? (minuteOf(s) + 1) / 1000 : undefined,
        ),
      }),
    );
    expect(twenty.latency.minutes).toBe(20);
    expect(twenty.latency.meanMs).toBeCloseTo(10.5, 10);
    expect(twenty.latency.p95Ms).toBeCloseTo(19, 10);

    // 43,200 minutes: rank ⌈0.95 × 43,200⌉ = 41,040. With exactly 2,160 slow minutes (5 %) the 41,040th
    // smallest is still fast; one more slow minute and it is slow.
    const p95 = (slow: number): number | null =>
      computeSlaMonth(
        month('2026-04', 'Asia/Jakarta', {
          latencyMeanSeconds: series(start, end, (s) => (minuteOf(s) < slow ? 0.05 : 0.01)),
        }),
      ).latency.p95Ms;
    expect(p95(2160)).toBeCloseTo(10, 10);
    expect(p95(2161)).toBeCloseTo(50, 10);
  });

  it('judges latency on the monthly mean, not p95, and a figure equal to its commitment meets it', () => {
    // Half the minutes at 15 ms and half at 25 ms: mean exactly 20 ms (the commitment), p95 25 ms.
    // Loss 0.1 on every tenth minute: 1 % exactly (the commitment).
    const { start, end } = monthBounds('2026-04', 'Asia/Jakarta');
    const minuteOf = (s: number): number => (s - start.getTime()) / MINUTE;
    const input = month('2026-04', 'Asia/Jakarta', {
      latencyMeanSeconds: series(start, end, (s) => (minuteOf(s) % 2 === 0 ? 0.015 : 0.025)),
      loss: series(start, end, (s) => (minuteOf(s) % 10 === 0 ? 0.1 : 0)),
    });
    const met = computeSlaMonth(input);
    expect(met.latency.meanMs).toBeCloseTo(20, 10);
    expect(met.latency.p95Ms).toBeCloseTo(25, 10);
    expect(met.lossPercent).toBeCloseTo(1, 10);
    expect(met.breaches).toEqual({ availability: false, latency: false, loss: false });

    const missed = computeSlaMonth({
      ...input,
      commitments: { availabilityPercent: 99.5, latencyMs: 19.9, lossPercent: 0.99 },
    });
    expect(missed.breaches).toEqual({ availability: false, latency: true, loss: true });
    const none = computeSlaMonth({
      ...input,
      commitments: { availabilityPercent: 99.5, latencyMs: null, lossPercent: null },
    });
    expect(none.breaches).toEqual({ availability: false, latency: false, loss: false });
  });
});

describe('breaches and credit', () => {
  const fee = 1_234_567_891n;

  it('98 %: the 25 % tier, 308,641,972 of 1,234,567,891 rupiah (.75 rounded down)', () => {
    // 864 minutes = 2 % of 43,200 down: under 99.5 and 99, not under 95 → lowest matching tier 99 → 25 %.
    const { start } = monthBounds('2026-04', 'Asia/Jakarta');
    const r = computeSlaMonth(
      month('2026-04', 'Asia/Jakarta', {
        down: (s) => s < start.getTime() + 864 * MINUTE,
        monthlyFeeIdr: fee,
      }),
    );
    expect(r.availabilityPercent).toBeCloseTo(98, 10);
    expect(r.breaches.availability).toBe(true);
    expect(r.credit).toEqual({ percent: 25, amountIdr: 308_641_972n });
    expect(r.incidents).toEqual([
      { start, end: new Date(start.getTime() + 864 * MINUTE), durationMinutes: 864 },
    ]);
  });

  it('90 %: the 50 % tier capped at 30 %: 370,370,367 rupiah (.3 rounded down)', () => {
    const { start } = monthBounds('2026-04', 'Asia/Jakarta');
    const r = computeSlaMonth(
      month('2026-04', 'Asia/Jakarta', {
        down: (s) => s < start.getTime() + 4320 * MINUTE,
        monthlyFeeIdr: fee,
      }),
    );
    expect(r.availabilityPercent).toBeCloseTo(90, 10);
    expect(r.credit).toEqual({ percent: 30, amountIdr: 370_370_367n });
  });

  it('exactly at a threshold is not under it: 216 minutes down is 99.5 %, 217 is below', () => {
    // 43,200 × 0.5 % = 216. Tiers listed in any order.
    const policy = { tiers: [...tiers.tiers].reverse(), capPercent: 30 };
    const { start } = monthBounds('2026-04', 'Asia/Jakarta');
    const down = (n: number) => (s: number) => s < start.getTime() + n * MINUTE;
    const at216 = computeSlaMonth(
      month('2026-04', 'Asia/Jakarta', { down: down(216), creditPolicy: policy }),
    );
    expect(at216.availabilityPercent).toBe(99.5);
    expect(at216.breaches.availability).toBe(false);
    expect(at216.credit).toEqual({ percent: 0, amountIdr: 0n });
    const at217 = computeSlaMonth(
      month('2026-04', 'Asia/Jakarta', { down: down(217), creditPolicy: policy }),
    );
    expect(at217.breaches.availability).toBe(true);
    expect(at217.credit).toEqual({ percent: 10, amountIdr: 1_000_000n });
    expect(creditPercentFor(43_200 - 216, 43_200, policy)).toBe(0);
  });

  it('a fractional credit percentage: 2.5 % of 1,234,567,891 = 30,864,197 rupiah (.275 rounded down)', () => {
    const { start } = monthBounds('2026-04', 'Asia/Jakarta');
    const r = computeSlaMonth(
      month('2026-04', 'Asia/Jakarta', {
        down: (s) => s < start.getTime() + 300 * MINUTE, // 99.306 %
        monthlyFeeIdr: fee,
        creditPolicy: { tiers: [{ belowAvailabilityPercent: 99.9, creditPercent: 2.5 }], capPercent: 100 },
      }),
    );
    expect(r.credit).toEqual({ percent: 2.5, amountIdr: 30_864_197n });
  });

  it('computes money exactly, on the decimal as written, for any fee', () => {
    expect(creditAmountIdr(999_999_999_999n, 2.5)).toBe(24_999_999_999n); // …999.975
    expect(creditAmountIdr(150_000n, 33.33)).toBe(49_995n);
    expect(creditAmountIdr(1_000_000n, 12.345)).toBe(123_450n); // 12.345 × 100 is 1234.5 in floats
    expect(creditAmountIdr(10n ** 30n, 0.01)).toBe(10n ** 26n);
    expect(creditAmountIdr(fee, 0)).toBe(0n);
    expect(creditAmountIdr(fee, 100)).toBe(fee);
  });

  it('owes nothing and breaches nothing when no minute was counted', () => {
    // Everything without data under 'exclude': availability unknown, coverage 0 %.
    const r = computeSlaMonth(
      month('2026-04', 'Asia/Jakarta', { availability: [], latencyMeanSeconds: [], loss: [] }),
    );
    expect(r.availabilityPercent).toBeNull();
    expect(r.coveragePercent).toBe(0);
    expect(r.latency).toEqual({ meanMs: null, p95Ms: null, minutes: 0 });
    expect(r.lossPercent).toBeNull();
    expect(r.breaches).toEqual({ availability: false, latency: false, loss: false });
    expect(r.credit).toEqual({ percent: 0, amountIdr: 0n });
    // The same month under 'down' is 0 % available, and owes the capped 50 % tier.
    const down = computeSlaMonth(
      month('2026-04', 'Asia/Jakarta', { availability: [], noDataPolicy: 'down' }),
    );
    expect(down.availabilityPercent).toBe(0);
    expect(down.credit.percent).toBe(30);
    expect(down.incidents).toEqual([
      { start: down.periodStart, end: down.periodEnd, durationMinutes: 43_200 },
    ]);
  });
});

describe('input validation', () => {
  it('names the field it cannot use', () => {
    const ok = month('2026-04', 'Asia/Jakarta', { availability: [], latencyMeanSeconds: [], loss: [] });
    expect(() =>
      validateSlaInput({
        ...ok,
        creditPolicy: { tiers: [{ belowAvailabilityPercent: 99, creditPercent: 120 }], capPercent: 50 },
      }),
    ).toThrow('creditPolicy.tiers[0].creditPercent must be a percentage from 0 to 100, got 120');
    expect(() => validateSlaInput({ ...ok, monthlyFeeIdr: -1n })).toThrow('monthlyFeeIdr must be ≥ 0');
    expect(() =>
      validateSlaInput({
        ...ok,
        commitments: { availabilityPercent: Number.NaN, latencyMs: null, lossPercent: null },
      }),
    ).toThrow('commitments.availabilityPercent');
    expect(() =>
      validateSlaInput({
        ...ok,
        maintenance: [{ start: new Date('2026-04-02T00:00:00Z'), end: new Date('2026-04-01T00:00:00Z') }],
      }),
    ).toThrow('maintenance[0] must have valid start ≤ end');
    expect(() => computeSlaMonth({ ...ok, timeZone: 'Jakarta' })).toThrow("unknown time zone 'Jakarta'");
  });
});

describe('invariants', () => {
  it('accounts for every minute once, and incidents are exactly the runs of counted-down minutes', () => {
    const m = '2026-02'; // 28 × 1,440 = 40,320 minutes
    const { start, end } = monthBounds(m, 'Asia/Jakarta');
    const total = 40_320;
    const minuteStart = (i: number): number => start.getTime() + i * MINUTE;
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: total - 1 }),
            fc.integer({ min: 1, max: 200 }),
            fc.constantFrom(0, 1, undefined),
          ),
          {
            maxLength: 60,
          },
        ),
        fc.array(
          fc.tuple(
            fc.integer({ min: -100, max: total }),
            fc.integer({ min: 1, max: 400 }),
            fc.integer({ min: 0, max: 59 }),
          ),
          {
            maxLength: 4,
          },
        ),
        fc.constantFrom<'down' | 'exclude'>('down', 'exclude'),
        (runs, windows, policy) => {
          const value = new Array<number | undefined>(total).fill(1);
          for (const [from, length, v] of runs) value.fill(v, from, Math.min(total, from + length));
          const maintenance = windows.map(([from, length, second]) => ({
            start: new Date(minuteStart(from) + second * 1000),
            end: new Date(minuteStart(from + length)),
          }));
          const r = computeSlaMonth(
            month(m, 'Asia/Jakarta', {
              availability: series(start, end, (s) => value[(s - start.getTime()) / MINUTE]),
              maintenance,
              noDataPolicy: policy,
            }),
          );
          const n = r.minutes;
          expect(n.total).toBe(total);
          expect(n.up + n.down + n.noData + n.maintenance).toBe(total);
          // Oracle for the maintenance rule: a minute whose start lies in any window.
          let maintained = 0;
          for (let i = 0; i < total; i++)
            if (
              maintenance.some((w) => w.start.getTime() <= minuteStart(i) && minuteStart(i) < w.end.getTime())
            )
              maintained += 1;
          expect(n.maintenance).toBe(maintained);
          const countedDown = n.down + (policy === 'down' ? n.noData : 0);
          expect(r.incidents.reduce((acc, i) => acc + i.durationMinutes, 0)).toBe(countedDown);
          for (const [i, inc] of r.incidents.entries()) {
            expect(inc.end.getTime() - inc.start.getTime()).toBe(inc.durationMinutes * MINUTE);
            const next = r.incidents[i + 1];
            if (next) expect(inc.end.getTime()).toBeLessThan(next.start.getTime()); // maximal: never touching
          }
          const up = n.up;
          expect(r.availabilityPercent).toBe(up + countedDown === 0 ? null : (up / (up + countedDown)) * 100);
          const days = r.days.reduce(
            (acc, d) => acc + d.upMinutes + d.downMinutes + d.noDataMinutes + d.maintenanceMinutes,
            0,
          );
          expect(days).toBe(total);
        },
      ),
      { numRuns: 20 },
    );
  });
});
