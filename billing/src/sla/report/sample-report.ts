// A hand-built SLA month for the report's tests (independent of the calculation in ../calc.ts):
// link L-0042 in Asia/Jakarta (UTC+7 all year), April 2026, one outage on 10 April from 10:00 local,
// two hours of maintenance on 21 April, a congested day of latency, 0.1 % loss.
import type { SlaDay, SlaMonth } from '../types.js';
import type { ReportContext } from './render.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const JAKARTA = 7 * HOUR;
const periodStart = new Date('2026-03-31T17:00:00Z'); // 1 April 00:00 WIB
const periodEnd = new Date('2026-04-30T17:00:00Z');
export const sampleOutageStart = new Date('2026-04-10T03:00:00Z'); // 10:00 WIB
export const sampleMaintenance = {
  start: new Date('2026-04-20T18:00:00Z'), // 21 April 01:00 WIB
  end: new Date('2026-04-20T20:00:00Z'),
  reason: 'Core switch upgrade',
};
const congested = { start: new Date('2026-04-11T03:00:00Z'), end: new Date('2026-04-12T03:00:00Z') };

const localDate = (t: number): string => new Date(t + JAKARTA).toISOString().slice(0, 10);
const inside = (t: number, w: { start: Date; end: Date }): boolean =>
  t >= w.start.getTime() && t < w.end.getTime();

/**
 * April 2026 with an outage of `outageMinutes` (37: availability 43,043 / 43,080 = 99.914 %, under the
 * 99.95 % commitment, credit 10 % of Rp 12.500.000 = Rp 1.250.000; 0: everything met, no credit).
 */
export function sampleSlaMonth(outageMinutes = 37): SlaMonth {
  const outage = {
    start: sampleOutageStart,
    end: new Date(sampleOutageStart.getTime() + outageMinutes * MINUTE),
  };
  const days = new Map<string, SlaDay>();
  const hours = Array.from({ length: (periodEnd.getTime() - periodStart.getTime()) / HOUR }, () => ({
    latency: [] as number[],
    loss: [] as number[],
    upLoss: [] as number[],
  }));
  const minutes = { total: 0, up: 0, down: 0, noData: 0, maintenance: 0 };
  const latencies: number[] = [];
  const losses: number[] = [];
  for (let t = periodStart.getTime(); t < periodEnd.getTime(); t += MINUTE) {
    const date = localDate(t);
    const day = days.get(date) ?? {
      date,
      upMinutes: 0,
      downMinutes: 0,
      noDataMinutes: 0,
      maintenanceMinutes: 0,
      availabilityPercent: null,
    };
    days.set(date, day);
    const hour = hours[Math.floor((t - periodStart.getTime()) / HOUR)] as (typeof hours)[number];
    minutes.total += 1;
    if (inside(t, sampleMaintenance)) {
      minutes.maintenance += 1;
      day.maintenanceMinutes += 1;
    } else if (inside(t, outage)) {
      minutes.down += 1;
      day.downMinutes += 1;
      losses.push(100);
      hour.loss.push(100);
    } else {
      minutes.up += 1;
      day.upMinutes += 1;
      const ms = inside(t, congested) ? 45 : 12;
      latencies.push(ms);
      hour.latency.push(ms);
      losses.push(0.1);
      hour.loss.push(0.1);
      hour.upLoss.push(0.1);
    }
  }
  for (const d of days.values()) d.availabilityPercent = (d.upMinutes / (d.upMinutes + d.downMinutes)) * 100;
  const mean = (v: number[]): number | null => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : null);
  const availabilityPercent = (minutes.up / (minutes.up + minutes.down)) * 100;
  const sorted = [...latencies].sort((a, b) => a - b);
  const breached = availabilityPercent < 99.95;
  return {
    month: '2026-04',
    timeZone: 'Asia/Jakarta',
    periodStart,
    periodEnd,
    minutes,
    availabilityPercent,
    coveragePercent: 100,
    incidents: outageMinutes
      ? [{ start: outage.start, end: outage.end, durationMinutes: outageMinutes }]
      : [],
    latency: {
      meanMs: mean(latencies),
      p95Ms: sorted[Math.ceil(0.95 * sorted.length) - 1] ?? null,
      minutes: latencies.length,
    },
    lossPercent: mean(losses),
    breaches: { availability: breached, latency: false, loss: false },
    credit: breached ? { percent: 10, amountIdr: 1_250_000n } : { percent: 0, amountIdr: 0n },
    days: [...days.values()],
    hourly: hours.map((h, i) => ({
      start: new Date(periodStart.getTime() + i * HOUR),
      latencyMs: mean(h.latency),
      lossPercent: mean(h.loss),
    })),
    hourlyUpLossPercent: hours.map((h) => mean(h.upLoss)),
    noDataPeriods: [],
    noDataPolicy: 'exclude',
    commitments: { availabilityPercent: 99.95, latencyMs: 20, lossPercent: 1 },
    monthlyFeeIdr: 12_500_000n,
  };
}

export function sampleReportContext(sla: SlaMonth = sampleSlaMonth()): ReportContext {
  return {
    provider: {
      name: 'Nusantara Fiber',
      address: 'Jl. Jend. Sudirman Kav. 1, Jakarta 10220',
      email: 'noc@nusantara.example',
      phone: '+62 21 555 0142',
      accentColor: '#0a6e5c',
      logoSvg:
        '<svg viewBox="0 0 10 10" xmlns="http://www.w3.org/2000/svg"><circle cx="5" cy="5" r="5" fill="#0a6e5c"/><path d="M3 7V3l4 4V3" stroke="#fff" fill="none"/></svg>',
    },
    customer: { code: 'C-042', name: 'PT Maju & Jaya Sejahtera' },
    link: {
      code: 'L-0042',
      name: 'HQ Thamrin to DC Cikarang',
      bandwidth: '100 Mbps',
      serviceAddress: 'Jl. M.H. Thamrin 9, Jakarta',
    },
    sla,
    maintenance: [sampleMaintenance],
    generatedAt: new Date('2026-05-01T01:00:00Z'),
  };
}
