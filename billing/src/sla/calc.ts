// The SLA of one client link for one calendar month in the link's time zone: a pure function over
// minute-level series (the probe counters' increase over each clock minute, range queries at step 60 s
// aligned to minute ends: sla/prometheus.ts).
//
// Rules, in words:
// - The month runs from the first instant of the 1st to the first instant of the 1st of the next month,
//   local time, so a DST month has a 23- or 25-hour day (Europe/Berlin, March 2026: 44,580 minutes).
//   Where a zone skips midnight (America/Santiago, 6 September 2026), the day starts at 01:00.
// - Minute [s, s+60) is read from the sample at s+60: the recording rule's value over that minute.
// - A minute whose start lies inside a maintenance window [start, end) is maintenance: excluded from
//   everything (availability, latency, loss, incidents, hourly points). So a window 10:00:30–10:05
//   covers the minutes starting 10:01 … 10:04, and a window is never rounded outwards.
// - Otherwise it is up (success fraction ≥ 0.5), down (< 0.5: more than half of its probes failed, the
//   rule LinkDown and link:probe_availability:ratio_1m use too) or no-data (no sample). With no-data policy
//   'down' a no-data minute counts as down (it is still reported as no-data); with 'exclude' it counts
//   as neither, and coverage says how much of the month was measured.
// - availability = up / (up + counted down); incidents = maximal runs of counted-down minutes. Any other
//   minute ends a run: an up minute, a maintenance minute (the outage became planned work), and under
//   'exclude' a no-data minute (we cannot claim the link was down then).
// - Latency is the monthly mean of per-minute mean RTT over non-maintenance minutes with replies, the
//   usual reading of a "monthly average latency" commitment; p95 (nearest rank over the per-minute
//   means) is reported, not judged. Loss is the mean per-minute loss ratio. A commitment is breached
//   when availability < target, mean latency > target, or loss > target; a month without any counted
//   minute (or without latency / loss samples) breaches nothing on that measure.
// - Credit: the tier with the lowest threshold that availability is under; capped; amount rounded down
//   to whole rupiah. Thresholds, percentages and money are compared and multiplied exactly (bigint over
//   the decimals as written), so 99.5 % achieved against a 99.5 % tier is not "under" it.
import type { CreditPolicy, SlaCommitments, SlaDay, SlaIncident, SlaInput, SlaMonth } from './types.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Latency and loss are means of float samples; a figure this close to its commitment meets it. */
const MEASUREMENT_TOLERANCE = 1e-9;

// Building a DateTimeFormat costs far more than using one; zones are few.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new RangeError(`unknown time zone '${timeZone}': expected an IANA name such as Asia/Jakarta`);
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** Offset of `timeZone` from UTC at instant `at` (ms), in ms: local wall clock − UTC. */
export function zoneOffsetMs(at: number, timeZone: string): number {
  const wall: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(at))) wall[p.type] = Number(p.value);
  const local = Date.UTC(
    wall.year ?? NaN,
    (wall.month ?? NaN) - 1,
    wall.day ?? NaN,
    wall.hour ?? NaN,
    wall.minute ?? NaN,
    wall.second ?? NaN,
  );
  return local - Math.floor(at / 1000) * 1000;
}

/** The wall-clock reading of instant `t` in `timeZone`, as ms since the epoch of a UTC calendar. */
function wallClock(t: number, timeZone: string): number {
  return t + zoneOffsetMs(t, timeZone);
}

/** The first instant of local day y-m-d in `timeZone` (m 1–12; d may overflow into the next month). */
export function localDayStart(y: number, m: number, d: number, timeZone: string): number {
  const midnight = Date.UTC(y, m - 1, d);
  // At most one offset change lies within a day of midnight: the instants that read as midnight are
  // midnight − (offset before) and midnight − (offset after), whichever really reads so.
  const before = zoneOffsetMs(midnight - DAY_MS, timeZone);
  const after = zoneOffsetMs(midnight + DAY_MS, timeZone);
  const readings = [midnight - before, midnight - after].filter((t) => wallClock(t, timeZone) === midnight);
  if (readings.length > 0) return Math.min(...readings); // clocks went back over midnight: the first
  // Midnight was skipped (clocks went forward over it): the day starts at the change, the first instant
  // that reads at or after midnight. Between these bounds the wall clock only moves forward.
  let lo = midnight - after; // reads before midnight
  let hi = midnight - before; // reads after midnight
  while (hi - lo > 1000) {
    const mid = lo + Math.max(1000, Math.floor((hi - lo) / 2000) * 1000);
    if (wallClock(mid, timeZone) >= midnight) hi = mid;
    else lo = mid;
  }
  return hi;
}

export function parseMonth(month: string): { y: number; m: number } {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!match) throw new RangeError(`month must look like 2026-03, got '${month}'`);
  return { y: Number(match[1]), m: Number(match[2]) };
}

/** The calendar month in `timeZone`: [first instant of the 1st, first instant of the next 1st). */
export function monthBounds(month: string, timeZone: string): { start: Date; end: Date } {
  const { y, m } = parseMonth(month);
  return {
    start: new Date(localDayStart(y, m, 1, timeZone)),
    end: new Date(localDayStart(m === 12 ? y + 1 : y, m === 12 ? 1 : m + 1, 1, timeZone)),
  };
}

/** The month before the one containing `at`, in `timeZone` ('YYYY-MM'). */
export function previousMonth(at: Date, timeZone: string): string {
  const local = new Date(wallClock(at.getTime(), timeZone));
  const y = local.getUTCFullYear();
  const m = local.getUTCMonth() + 1;
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

/** A non-negative number as the exact decimal it was written as (shortest round trip): 2.5 → 25/10. */
function exactDecimal(x: number): { num: bigint; den: bigint } {
  const match = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(x));
  if (!match) throw new RangeError(`expected a finite number ≥ 0, got ${x}`);
  const fraction = match[2] ?? '';
  const digits = BigInt(`${match[1] ?? ''}${fraction}`);
  const exponent = Number(match[3] ?? 0) - fraction.length;
  return exponent >= 0
    ? { num: digits * 10n ** BigInt(exponent), den: 1n }
    : { num: digits, den: 10n ** BigInt(-exponent) };
}

/** Whether up / counted is below `percent` %, exactly (no float rounding at the threshold). */
export function availabilityBelow(up: number, counted: number, percent: number): boolean {
  const { num, den } = exactDecimal(percent);
  return BigInt(up) * 100n * den < num * BigInt(counted);
}

/** The credit percentage earned by `up` of `counted` minutes: lowest matching tier, capped; 0 if none counted. */
export function creditPercentFor(up: number, counted: number, policy: CreditPolicy): number {
  if (counted === 0) return 0;
  let best: { below: number; credit: number } | undefined;
  for (const tier of policy.tiers)
    if (
      availabilityBelow(up, counted, tier.belowAvailabilityPercent) &&
      (best === undefined || tier.belowAvailabilityPercent < best.below)
    )
      best = { below: tier.belowAvailabilityPercent, credit: tier.creditPercent };
  return Math.min(best?.credit ?? 0, policy.capPercent);
}

/** fee × percent / 100 rounded down to whole rupiah, exact for any fee and any decimal percentage. */
export function creditAmountIdr(feeIdr: bigint, percent: number): bigint {
  const { num, den } = exactDecimal(percent);
  return (feeIdr * num) / (100n * den);
}

function requirePercent(value: number, field: string): void {
  if (!Number.isFinite(value) || value < 0 || value > 100)
    throw new RangeError(`SLA input: ${field} must be a percentage from 0 to 100, got ${value}`);
}

/** Throws a RangeError naming the first field of `input` that the calculation cannot use. */
export function validateSlaInput(input: SlaInput): void {
  parseMonth(input.month);
  formatter(input.timeZone);
  if (input.noDataPolicy !== 'down' && input.noDataPolicy !== 'exclude')
    throw new RangeError(
      `SLA input: noDataPolicy must be 'down' or 'exclude', got '${String(input.noDataPolicy)}'`,
    );
  const c: SlaCommitments = input.commitments;
  requirePercent(c.availabilityPercent, 'commitments.availabilityPercent');
  if (c.latencyMs !== null && !(Number.isFinite(c.latencyMs) && c.latencyMs >= 0))
    throw new RangeError(`SLA input: commitments.latencyMs must be a number ≥ 0 or null, got ${c.latencyMs}`);
  if (c.lossPercent !== null) requirePercent(c.lossPercent, 'commitments.lossPercent');
  if (input.monthlyFeeIdr < 0n)
    throw new RangeError(`SLA input: monthlyFeeIdr must be ≥ 0, got ${input.monthlyFeeIdr}`);
  requirePercent(input.creditPolicy.capPercent, 'creditPolicy.capPercent');
  input.creditPolicy.tiers.forEach((tier, i) => {
    requirePercent(tier.belowAvailabilityPercent, `creditPolicy.tiers[${i}].belowAvailabilityPercent`);
    requirePercent(tier.creditPercent, `creditPolicy.tiers[${i}].creditPercent`);
  });
  input.maintenance.forEach((w, i) => {
    const start = w.start.getTime();
    const end = w.end.getTime();
    if (!Number.isFinite(start) || !Number.isFinite(end) || end < start)
      throw new RangeError(
        `SLA input: maintenance[${i}] must have valid start ≤ end, got ${String(w.start)} – ${String(w.end)}`,
      );
  });
}

/**
 * Samples by minute index k (the minute ending at `firstEnd` + 60·k s), NaN where none; NaN and
 * infinities are no measurement. A typed array: a Map keyed by epoch seconds cost 28 ms a month.
 */
function byMinuteEnd(series: SlaInput['availability'], firstEnd: number, count: number): Float64Array {
  const values = new Float64Array(count).fill(NaN);
  for (const [t, v] of series) {
    if (!Number.isFinite(v)) continue;
    const k = (Math.round(t) - firstEnd) / 60;
    if (Number.isInteger(k) && k >= 0 && k < count) values[k] = v;
  }
  return values;
}

/** Tells, minute by minute in increasing order, whether a minute's start lies inside a window. */
function maintenanceCursor(windows: SlaInput['maintenance']): (minuteStart: number) => boolean {
  const sorted = windows
    .map((w) => ({ start: w.start.getTime(), end: w.end.getTime() }))
    .filter((w) => w.end > w.start)
    .sort((a, b) => a.start - b.start);
  let first = 0; // windows before `first` end before every later minute
  return (s) => {
    while (first < sorted.length && (sorted[first]?.end ?? Infinity) <= s) first += 1;
    for (let k = first; k < sorted.length; k++) {
      const w = sorted[k];
      if (!w || w.start > s) return false;
      if (s < w.end) return true;
    }
    return false;
  };
}

interface HourAccumulator {
  start: Date;
  latencyMsSum: number;
  latencyMinutes: number;
  lossPercentSum: number;
  lossMinutes: number;
}

export function computeSlaMonth(input: SlaInput): SlaMonth {
  validateSlaInput(input);
  const { start, end } = monthBounds(input.month, input.timeZone);
  const { y, m } = parseMonth(input.month);
  const periodStart = start.getTime();
  const periodEnd = end.getTime();
  const firstEnd = periodStart / 1000 + 60;
  const count = Math.ceil((periodEnd - periodStart) / MINUTE_MS);
  const availability = byMinuteEnd(input.availability, firstEnd, count);
  const latency = byMinuteEnd(input.latencyMeanSeconds, firstEnd, count);
  const loss = byMinuteEnd(input.loss, firstEnd, count);
  const inMaintenance = maintenanceCursor(input.maintenance);
  const noDataIsDown = input.noDataPolicy === 'down';

  // Local days of 23, 24 or 25 hours.
  const dayStarts: number[] = [];
  for (let d = 1; ; d++) {
    const t = localDayStart(y, m, d, input.timeZone);
    if (t >= periodEnd) break;
    dayStarts.push(t);
  }
  const days: SlaDay[] = dayStarts.map((_, i) => ({
    date: `${input.month}-${String(i + 1).padStart(2, '0')}`,
    upMinutes: 0,
    downMinutes: 0,
    noDataMinutes: 0,
    maintenanceMinutes: 0,
    availabilityPercent: null,
  }));
  // Hours counted from the month's first instant: local hour starts in every zone whose offsets are whole
  // hours apart across DST, including :30 and :45 zones.
  const hours: HourAccumulator[] = Array.from(
    { length: Math.ceil((periodEnd - periodStart) / HOUR_MS) },
    (_, i) => ({
      start: new Date(periodStart + i * HOUR_MS),
      latencyMsSum: 0,
      latencyMinutes: 0,
      lossPercentSum: 0,
      lossMinutes: 0,
    }),
  );

  const minutes = { total: 0, up: 0, down: 0, noData: 0, maintenance: 0 };
  const incidents: SlaIncident[] = [];
  const latenciesMs: number[] = [];
  let lossSum = 0;
  let lossMinutes = 0;
  let downSince: number | undefined;
  const noDataPeriods: SlaIncident[] = [];
  let noDataSince: number | undefined;
  const endNoData = (at: number): void => {
    if (noDataSince !== undefined)
      noDataPeriods.push({
        start: new Date(noDataSince),
        end: new Date(at),
        durationMinutes: (at - noDataSince) / MINUTE_MS,
      });
    noDataSince = undefined;
  };
  // Hourly loss over up minutes only, for the chart: an outage minute's 100 % belongs to availability.
  const upLoss = hours.map(() => ({ sum: 0, minutes: 0 }));
  const endIncident = (at: number): void => {
    if (downSince !== undefined)
      incidents.push({
        start: new Date(downSince),
        end: new Date(at),
        durationMinutes: (at - downSince) / MINUTE_MS,
      });
    downSince = undefined;
  };

  let dayIndex = 0;
  for (let s = periodStart; s < periodEnd; s += MINUTE_MS) {
    minutes.total += 1;
    while (dayIndex + 1 < dayStarts.length && s >= (dayStarts[dayIndex + 1] ?? Infinity)) dayIndex += 1;
    const day = days[dayIndex];
    const hour = hours[Math.floor((s - periodStart) / HOUR_MS)];
    if (!day || !hour) throw new Error(`no day or hour for minute ${new Date(s).toISOString()}`);

    if (inMaintenance(s)) {
      minutes.maintenance += 1;
      day.maintenanceMinutes += 1;
      endIncident(s);
      endNoData(s);
      continue;
    }
    const k = (s - periodStart) / MINUTE_MS;
    const measured = availability[k] ?? NaN;
    const a = Number.isNaN(measured) ? undefined : measured;
    let countedDown: boolean;
    if (a === undefined) {
      minutes.noData += 1;
      day.noDataMinutes += 1;
      countedDown = noDataIsDown;
      noDataSince ??= s;
    } else if (a >= 0.5) {
      minutes.up += 1;
      day.upMinutes += 1;
      countedDown = false;
    } else {
      minutes.down += 1;
      day.downMinutes += 1;
      countedDown = true;
    }
    if (countedDown) downSince ??= s;
    else endIncident(s);
    if (a !== undefined) endNoData(s);

    const seconds = latency[k] ?? NaN;
    if (!Number.isNaN(seconds)) {
      latenciesMs.push(seconds * 1000);
      hour.latencyMsSum += seconds * 1000;
      hour.latencyMinutes += 1;
    }
    const ratio = loss[k] ?? NaN;
    if (!Number.isNaN(ratio)) {
      lossSum += ratio;
      lossMinutes += 1;
      hour.lossPercentSum += ratio * 100;
      hour.lossMinutes += 1;
      const up = upLoss[Math.floor((s - periodStart) / HOUR_MS)];
      if (up && a !== undefined && a >= 0.5) {
        up.sum += ratio * 100;
        up.minutes += 1;
      }
    }
  }
  endIncident(periodEnd);
  endNoData(periodEnd);

  const countedDown = minutes.down + (noDataIsDown ? minutes.noData : 0);
  const counted = minutes.up + countedDown;
  const availabilityPercent = counted === 0 ? null : (minutes.up / counted) * 100;
  for (const d of days) {
    const dayCounted = d.upMinutes + d.downMinutes + (noDataIsDown ? d.noDataMinutes : 0);
    d.availabilityPercent = dayCounted === 0 ? null : (d.upMinutes / dayCounted) * 100;
  }
  const measurable = minutes.total - minutes.maintenance;
  latenciesMs.sort((p, q) => p - q);
  const n = latenciesMs.length;
  const meanMs = n ? latenciesMs.reduce((acc, v) => acc + v, 0) / n : null;
  // Nearest rank: the ⌈0.95·n⌉-th smallest, in integer arithmetic (0.95·n in floats can overshoot).
  const p95Ms = n ? (latenciesMs[Math.ceil((95 * n) / 100) - 1] ?? null) : null;
  const lossPercent = lossMinutes ? (lossSum / lossMinutes) * 100 : null;
  const c = input.commitments;
  const creditPercent = creditPercentFor(minutes.up, counted, input.creditPolicy);
  return {
    month: input.month,
    timeZone: input.timeZone,
    periodStart: start,
    periodEnd: end,
    minutes,
    availabilityPercent,
    // A month entirely under maintenance had nothing left to measure, so nothing went unmeasured.
    coveragePercent: measurable === 0 ? 100 : ((minutes.up + minutes.down) / measurable) * 100,
    incidents,
    latency: { meanMs, p95Ms, minutes: n },
    lossPercent,
    breaches: {
      availability: counted > 0 && availabilityBelow(minutes.up, counted, c.availabilityPercent),
      latency: c.latencyMs !== null && meanMs !== null && meanMs > c.latencyMs + MEASUREMENT_TOLERANCE,
      loss:
        c.lossPercent !== null && lossPercent !== null && lossPercent > c.lossPercent + MEASUREMENT_TOLERANCE,
    },
    credit: { percent: creditPercent, amountIdr: creditAmountIdr(input.monthlyFeeIdr, creditPercent) },
    days,
    hourly: hours.map((h) => ({
      start: h.start,
      latencyMs: h.latencyMinutes ? h.latencyMsSum / h.latencyMinutes : null,
      lossPercent: h.lossMinutes ? h.lossPercentSum / h.lossMinutes : null,
    })),
    hourlyUpLossPercent: upLoss.map((h) => (h.minutes ? h.sum / h.minutes : null)),
    noDataPeriods,
    noDataPolicy: input.noDataPolicy,
    commitments: input.commitments,
    monthlyFeeIdr: input.monthlyFeeIdr,
  };
}
