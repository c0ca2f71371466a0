// The SLA of one client link for one calendar month in the link's time zone: a pure function over
// minute-level series (Prometheus range queries of the link recording rules, step 60 s).
//
// Rules, in words:
// - The month runs from local midnight on the 1st to local midnight on the 1st of the next month, so a
//   DST month has 23 or 25 hours on its change day (Europe/Berlin, March 2026: 44,580 minutes).
// - Minute [s, s+60) is read from the sample at s+60: the recording rule's value over that minute.
// - A minute whose start lies inside a maintenance window [start, end) is maintenance: excluded from
//   everything (availability, latency, loss, incidents).
// - Otherwise it is up (availability ≥ 0.5), down (< 0.5) or no-data (no sample). With no-data policy
//   'down' a no-data minute counts as down; with 'exclude' it counts as neither, and coverage says how
//   much of the month was measured.
// - availability = up / (up + counted down); incidents = maximal runs of counted-down minutes (any other
//   minute ends a run).
// - Latency is the monthly mean of per-minute mean RTT over minutes with replies (p95 by nearest rank,
//   shown, not judged); loss is the mean per-minute loss ratio. A commitment is breached when
//   availability < target, mean latency > target, or loss > target.
// - Credit: the tier with the lowest threshold that availability is under; capped; amount rounded down
//   to whole rupiah with integer arithmetic.
import type { SlaDay, SlaIncident, SlaInput, SlaMonth } from './types.js';

const MINUTE = 60_000;
const EPSILON = 1e-9;

/** Offset of `tz` from UTC at `at`, in ms (local − UTC). */
export function zoneOffsetMs(at: number, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(at));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const local = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return local - Math.floor(at / 1000) * 1000;
}

/** The UTC instant of local midnight starting `y-m-d` in `tz`. */
export function localMidnight(y: number, m: number, d: number, tz: string): number {
  const guess = Date.UTC(y, m - 1, d);
  let t = guess - zoneOffsetMs(guess, tz);
  t = guess - zoneOffsetMs(t, tz); // second pass lands on the right side of a DST change
  return t;
}

export function parseMonth(month: string): { y: number; m: number } {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!match) throw new Error(`month must look like 2026-03, got '${month}'`);
  return { y: Number(match[1]), m: Number(match[2]) };
}

export function monthBounds(month: string, tz: string): { start: Date; end: Date } {
  const { y, m } = parseMonth(month);
  return {
    start: new Date(localMidnight(y, m, 1, tz)),
    end: new Date(localMidnight(m === 12 ? y + 1 : y, m === 12 ? 1 : m + 1, 1, tz)),
  };
}

/** The month before the one containing `at`, in `tz` ('YYYY-MM'). */
export function previousMonth(at: Date, tz: string): string {
  const local = new Date(at.getTime() + zoneOffsetMs(at.getTime(), tz));
  const y = local.getUTCFullYear();
  const m = local.getUTCMonth() + 1;
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

function seriesMap(series: SlaInput['availability']): Map<number, number> {
  const map = new Map<number, number>();
  for (const [t, v] of series) if (Number.isFinite(v)) map.set(Math.round(t), v);
  return map;
}

export function creditPercentFor(
  availabilityPercent: number | null,
  policy: SlaInput['creditPolicy'],
): number {
  if (availabilityPercent === null) return 0;
  let best = 0;
  let threshold = Infinity;
  for (const tier of policy.tiers)
    if (
      availabilityPercent < tier.belowAvailabilityPercent - EPSILON &&
      tier.belowAvailabilityPercent < threshold
    ) {
      threshold = tier.belowAvailabilityPercent;
      best = tier.creditPercent;
    }
  return Math.min(best, policy.capPercent);
}

/** fee × percent / 100, rounded down, exact for any fee (percent to 1/100 of a percent). */
export function creditAmountIdr(feeIdr: bigint, percent: number): bigint {
  const basisPoints = BigInt(Math.round(percent * 100));
  return (feeIdr * basisPoints) / 10_000n;
}

export function computeSlaMonth(input: SlaInput): SlaMonth {
  const { start, end } = monthBounds(input.month, input.timeZone);
  const { y, m } = parseMonth(input.month);
  const availability = seriesMap(input.availability);
  const latency = seriesMap(input.latencyMeanSeconds);
  const loss = seriesMap(input.loss);
  const windows = input.maintenance
    .map((w) => [w.start.getTime(), w.end.getTime()] as const)
    .sort((a, b) => a[0] - b[0]);

  // Local day boundaries (23/24/25 hours long).
  const dayStarts: number[] = [];
  for (let d = 1; ; d++) {
    const t = localMidnight(y, m, d, input.timeZone);
    if (t >= end.getTime()) break;
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
  const hours = Math.ceil((end.getTime() - start.getTime()) / 3_600_000);
  const hourly = Array.from({ length: hours }, (_, i) => ({
    start: new Date(start.getTime() + i * 3_600_000),
    latSum: 0,
    latN: 0,
    lossSum: 0,
    lossN: 0,
  }));

  const minutes = { total: 0, up: 0, down: 0, noData: 0, maintenance: 0 };
  const incidents: SlaIncident[] = [];
  const latencies: number[] = [];
  let lossSum = 0;
  let lossN = 0;
  let run: number | undefined; // start of the current down run
  let day = 0;
  let w = 0;
  const close = (at: number): void => {
    if (run !== undefined)
      incidents.push({ start: new Date(run), end: new Date(at), durationMinutes: (at - run) / MINUTE });
    run = undefined;
  };
  for (let s = start.getTime(); s < end.getTime(); s += MINUTE) {
    minutes.total += 1;
    while (day + 1 < dayStarts.length && s >= (dayStarts[day + 1] as number)) day += 1;
    const today = days[day] as SlaDay;
    while (w < windows.length && (windows[w] as readonly [number, number])[1] <= s) w += 1;
    let inMaintenance = false;
    for (let k = w; k < windows.length; k++) {
      const [ws, we] = windows[k] as readonly [number, number];
      if (ws > s) break;
      if (s < we) {
        inMaintenance = true;
        break;
      }
    }
    if (inMaintenance) {
      minutes.maintenance += 1;
      today.maintenanceMinutes += 1;
      close(s);
      continue;
    }
    const t = s / 1000 + 60;
    const a = availability.get(t);
    let countedDown = false;
    if (a === undefined) {
      minutes.noData += 1;
      today.noDataMinutes += 1;
      countedDown = input.noDataPolicy === 'down';
    } else if (a >= 0.5) {
      minutes.up += 1;
      today.upMinutes += 1;
    } else {
      minutes.down += 1;
      today.downMinutes += 1;
      countedDown = true;
    }
    if (countedDown) run ??= s;
    else close(s);
    const hour = hourly[Math.floor((s - start.getTime()) / 3_600_000)];
    const l = latency.get(t);
    if (l !== undefined) {
      latencies.push(l * 1000);
      if (hour) {
        hour.latSum += l * 1000;
        hour.latN += 1;
      }
    }
    const p = loss.get(t);
    if (p !== undefined) {
      lossSum += p;
      lossN += 1;
      if (hour) {
        hour.lossSum += p * 100;
        hour.lossN += 1;
      }
    }
  }
  close(end.getTime());

  const downCounted = minutes.down + (input.noDataPolicy === 'down' ? minutes.noData : 0);
  const counted = minutes.up + downCounted;
  const availabilityPercent = counted === 0 ? null : (minutes.up / counted) * 100;
  for (const d of days) {
    const dDown = d.downMinutes + (input.noDataPolicy === 'down' ? d.noDataMinutes : 0);
    d.availabilityPercent = d.upMinutes + dDown === 0 ? null : (d.upMinutes / (d.upMinutes + dDown)) * 100;
  }
  const measured = minutes.total - minutes.maintenance;
  latencies.sort((x, z) => x - z);
  const meanMs = latencies.length ? latencies.reduce((acc, v) => acc + v, 0) / latencies.length : null;
  const p95Ms = latencies.length ? (latencies[Math.ceil(0.95 * latencies.length) - 1] as number) : null;
  const lossPercent = lossN ? (lossSum / lossN) * 100 : null;
  const c = input.commitments;
  const percent = creditPercentFor(availabilityPercent, input.creditPolicy);
  return {
    month: input.month,
    timeZone: input.timeZone,
    periodStart: start,
    periodEnd: end,
    minutes,
    availabilityPercent,
    coveragePercent: measured === 0 ? 0 : ((minutes.up + minutes.down) / measured) * 100,
    incidents,
    latency: { meanMs, p95Ms, minutes: latencies.length },
    lossPercent,
    breaches: {
      // Sums of float samples wobble in the last bits; a figure equal to its commitment meets it.
      availability: availabilityPercent !== null && availabilityPercent < c.availabilityPercent - EPSILON,
      latency: c.latencyMs !== null && meanMs !== null && meanMs > c.latencyMs + EPSILON,
      loss: c.lossPercent !== null && lossPercent !== null && lossPercent > c.lossPercent + EPSILON,
    },
    credit: { percent, amountIdr: creditAmountIdr(input.monthlyFeeIdr, percent) },
    days,
    hourly: hourly.map((h) => ({
      start: h.start,
      latencyMs: h.latN ? h.latSum / h.latN : null,
      lossPercent: h.lossN ? h.lossSum / h.lossN : null,
    })),
    noDataPolicy: input.noDataPolicy,
    commitments: input.commitments,
    monthlyFeeIdr: input.monthlyFeeIdr,
  };
}
