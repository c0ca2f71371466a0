// Shared SLA types: the calculation (sla/calc.ts) produces an SlaMonth; the report renderer
// (sla/report/) and the API consume it. Ratios/percentages are numbers (measurements); money is
// integer rupiah (IDR has no minor unit) and never a float.

/** A link's commitments. Percentages as numbers, e.g. 99.5; null = no commitment on that measure. */
export interface SlaCommitments {
  availabilityPercent: number;
  latencyMs: number | null;
  lossPercent: number | null;
}

/** Credit tiers: if achieved availability < belowAvailabilityPercent, credit creditPercent of the fee.
 * The lowest matching threshold wins (the largest credit); total capped at capPercent. */
export interface CreditPolicy {
  tiers: Array<{ belowAvailabilityPercent: number; creditPercent: number }>;
  capPercent: number;
}

export interface TimeWindow {
  start: Date;
  end: Date; // exclusive
}

/** One series sample per minute: [unix seconds at the minute's end (a range query at step 60 s
 * evaluates the minute [end − 60 s, end]), value]. Missing minutes are simply absent. */
export type MinuteSeries = ReadonlyArray<readonly [number, number]>;

export interface SlaInput {
  /** Calendar month 'YYYY-MM' in the link's time zone. */
  month: string;
  timeZone: string; // IANA, e.g. 'Asia/Jakarta', 'Europe/Berlin'
  /** Share of the minute's probes that got a reply (0..1); below 0.5 the minute is down. */
  availability: MinuteSeries;
  /** Mean round trip of the minute's replies in seconds (only minutes with replies have a value). */
  latencyMeanSeconds: MinuteSeries;
  /** Share of the minute's probes without a reply (0..1). */
  loss: MinuteSeries;
  maintenance: TimeWindow[];
  noDataPolicy: 'down' | 'exclude';
  commitments: SlaCommitments;
  monthlyFeeIdr: bigint;
  creditPolicy: CreditPolicy;
}

export interface SlaIncident {
  start: Date;
  end: Date; // exclusive
  durationMinutes: number;
}

export interface SlaDay {
  date: string; // 'YYYY-MM-DD' in the link's zone
  upMinutes: number;
  downMinutes: number;
  noDataMinutes: number;
  maintenanceMinutes: number;
  availabilityPercent: number | null; // null when no counted minutes
}

export interface SlaMonth {
  month: string;
  timeZone: string;
  periodStart: Date; // first instant of the month in the zone
  periodEnd: Date; // first instant of the next month (exclusive)
  minutes: { total: number; up: number; down: number; noData: number; maintenance: number };
  availabilityPercent: number | null;
  /** Share of non-maintenance minutes that had data. */
  coveragePercent: number;
  incidents: SlaIncident[];
  latency: { meanMs: number | null; p95Ms: number | null; minutes: number };
  lossPercent: number | null;
  breaches: { availability: boolean; latency: boolean; loss: boolean };
  credit: { percent: number; amountIdr: bigint };
  days: SlaDay[];
  /** Hourly points for charts: hour start, mean latency (ms) and loss (%) over that hour, null when none. */
  hourly: Array<{ start: Date; latencyMs: number | null; lossPercent: number | null }>;
  /** Per hour (as `hourly`): mean loss (%) over its up minutes only, null when none: the loss chart's
   * points, apart from outage minutes (whose 100 % the availability figure already counts). */
  hourlyUpLossPercent: Array<number | null>;
  /** Maximal runs of non-maintenance minutes without data, whatever the no-data policy counts them as. */
  noDataPeriods: SlaIncident[];
  noDataPolicy: 'down' | 'exclude';
  commitments: SlaCommitments;
  monthlyFeeIdr: bigint;
}
