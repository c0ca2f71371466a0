// The one engine that runs SNMP modules (tables of what to read) against one agent: a GET for the
// scalars and one multi-column GETBULK walk for the tables, then pure mapping to metric families.
// A failing agent yields `snmp_up 0` with a reason instead of missing series.
import type { MetricFamily, Sample, SampleValue } from '../../exposition.js';
import { SnmpError, SnmpSession, type SnmpFailureReason, type SnmpTarget } from '../../snmp/session.js';
import { numericValue, oidSuffix, textValue, type SnmpVarbind } from '../../snmp/values.js';
import type { SnmpIndexDef, SnmpModule } from './types.js';

/** What a module needs read: table columns to walk and scalar instances to GET. */
export function moduleReads(module: SnmpModule): { walk: string[]; get: string[] } {
  const walk = new Set<string>();
  const get = new Set<string>();
  for (const m of module.metrics) {
    if (isScalar(m.oid)) get.add(m.oid);
    else walk.add(m.oid);
    for (const l of m.lookups ?? []) walk.add(l.oid);
    if (m.multiplyBy) walk.add(m.multiplyBy);
  }
  for (const info of module.infos ?? []) for (const l of info.labels) get.add(l.oid);
  return { walk: [...walk], get: [...get] };
}

function isScalar(oid: string): boolean {
  return oid.endsWith('.0');
}

/** Decodes a table index (the OID suffix) into labels; undefined if it does not fit the definition. */
export function decodeIndex(
  suffix: string,
  defs: readonly SnmpIndexDef[] | undefined,
): Record<string, string> | undefined {
  if (!defs || defs.length === 0) return { index: suffix };
  const parts = suffix.split('.');
  const labels: Record<string, string> = {};
  let at = 0;
  for (const def of defs) {
    if (def.type === 'integer') {
      if (at >= parts.length) return undefined;
      labels[def.label] = parts[at++] as string;
    } else if (def.type === 'ipv4') {
      if (at + 4 > parts.length) return undefined;
      labels[def.label] = parts.slice(at, at + 4).join('.');
      at += 4;
    } else if (def.type === 'string') {
      const n = Number(parts[at]);
      if (!Number.isInteger(n) || at + 1 + n > parts.length) return undefined;
      labels[def.label] = String.fromCharCode(...parts.slice(at + 1, at + 1 + n).map(Number));
      at += 1 + n;
    } else {
      labels[def.label] = parts.slice(at).join('.');
      at = parts.length;
    }
  }
  return at === parts.length ? labels : undefined;
}

function applyScale(value: SampleValue, scale: number | undefined): SampleValue {
  if (scale === undefined || scale === 1) return value;
  const n = Number(value);
  // Dividing by an integer rounds once (697202257 / 100 is exact to the last digit; × 0.01 is not).
  const inverse = 1 / scale;
  return Number.isInteger(inverse) ? n / inverse : n * scale;
}

function multiply(a: SampleValue, b: SampleValue): SampleValue {
  const integral = (v: SampleValue): boolean => typeof v === 'bigint' || Number.isInteger(v);
  if (integral(a) && integral(b)) return BigInt(a) * BigInt(b);
  return Number(a) * Number(b);
}

/** Values read from the agent, keyed by OID; the input of the pure mapping. */
export interface SnmpReadings {
  columns: Map<string, SnmpVarbind[]>;
  scalars: Map<string, SnmpVarbind>;
}

function bySuffix(base: string, rows: SnmpVarbind[] | undefined): Map<string, SnmpVarbind> {
  const out = new Map<string, SnmpVarbind>();
  for (const vb of rows ?? []) {
    const suffix = oidSuffix(base, vb.oid);
    if (suffix !== undefined) out.set(suffix, vb);
  }
  return out;
}

/** Pure: a module's definitions plus what the agent returned → metric families (empty ones left out). */
export function moduleFamilies(module: SnmpModule, readings: SnmpReadings): MetricFamily[] {
  const families: MetricFamily[] = [];
  const lookupCache = new Map<string, Map<string, SnmpVarbind>>();
  const column = (oid: string): Map<string, SnmpVarbind> => {
    let c = lookupCache.get(oid);
    if (!c) {
      c = bySuffix(oid, readings.columns.get(oid));
      lookupCache.set(oid, c);
    }
    return c;
  };
  for (const def of module.metrics) {
    const samples: Sample[] = [];
    if (isScalar(def.oid)) {
      const vb = readings.scalars.get(def.oid);
      const value = vb ? numericValue(vb) : undefined;
      if (value !== undefined) samples.push({ value: applyScale(value, def.scale) });
    } else {
      for (const [suffix, vb] of column(def.oid)) {
        let value = numericValue(vb);
        if (value === undefined) continue;
        const labels = decodeIndex(suffix, def.indexes);
        if (!labels) continue;
        if (def.multiplyBy) {
          const factorVb = column(def.multiplyBy).get(suffix);
          const factor = factorVb ? numericValue(factorVb) : undefined;
          if (factor === undefined) continue;
          value = multiply(value, factor);
        }
        for (const lookup of def.lookups ?? []) {
          const found = column(lookup.oid).get(suffix);
          labels[lookup.label] = found ? textValue(found) : '';
        }
        samples.push({ labels, value: applyScale(value, def.scale) });
      }
    }
    if (samples.length) families.push({ name: def.name, help: def.help, type: def.type, samples });
  }
  for (const info of module.infos ?? []) {
    const labels: Record<string, string> = {};
    let any = false;
    for (const l of info.labels) {
      const vb = readings.scalars.get(l.oid);
      labels[l.label] = vb ? textValue(vb) : '';
      any ||= vb !== undefined;
    }
    if (any)
      families.push({ name: info.name, help: info.help, type: 'gauge', samples: [{ labels, value: 1 }] });
  }
  return families;
}

/** Reads one module through an open session. */
export async function readModule(session: SnmpSession, module: SnmpModule): Promise<SnmpReadings> {
  const { walk, get } = moduleReads(module);
  const [columns, scalars] = await Promise.all([
    walk.length
      ? session.walk(walk, module.maxRepetitions)
      : Promise.resolve(new Map<string, SnmpVarbind[]>()),
    session.get(get),
  ]);
  return { columns, scalars };
}

export interface SnmpModuleRun {
  module: string;
  success: boolean;
  durationSeconds: number;
  error?: SnmpError;
}

export interface SnmpScrape {
  families: MetricFamily[];
  up: boolean;
  runs: SnmpModuleRun[];
  failure?: SnmpFailureReason;
  /** PDUs the agent answered in this scrape. */
  pdus: number;
  /** Requests sent to the agent in this scrape, retries included. */
  requests: number;
}

export interface SnmpScrapeOptions {
  /** Aborts the scrape (the HTTP client went away); no request is sent after it, it fails as `aborted`. */
  signal?: AbortSignal | undefined;
  /** Deadline of the whole scrape in ms (default: {@link DEFAULT_SCRAPE_DEADLINE_MS}). */
  deadlineMs?: number | undefined;
}

/**
 * Without Prometheus's scrape timeout header nobody gives up at a known time (a person with curl):
 * a generous bound, so a large device's walk is not cut short, as snmp_exporter would not cut it.
 */
export const DEFAULT_SCRAPE_DEADLINE_MS = 120_000;

/**
 * Pure: the scrape deadline from Prometheus's `X-Prometheus-Scrape-Timeout-Seconds` header, less a
 * margin (10 %, at most 500 ms) left for encoding and sending the answer before Prometheus gives up.
 */
export function scrapeDeadlineMs(header: string | undefined): number {
  const seconds = header === undefined ? NaN : Number(header);
  if (!Number.isFinite(seconds) || seconds <= 0) return DEFAULT_SCRAPE_DEADLINE_MS;
  const ms = seconds * 1000;
  return Math.max(1, Math.round(ms - Math.min(500, ms * 0.1)));
}

/**
 * Scrapes one agent for the given modules in one session. Each request has the target's timeout and
 * retries; the whole scrape has `deadlineMs`.
 * Returns the modules' families plus `snmp_up`, per-module success and duration, and the reason on failure.
 */
export async function scrapeSnmpTarget(
  target: SnmpTarget,
  modules: readonly SnmpModule[],
  options: SnmpScrapeOptions = {},
): Promise<SnmpScrape> {
  const started = performance.now();
  const families: MetricFamily[] = [];
  let runs: SnmpModuleRun[];
  let pdus = 0;
  let requests = 0;
  let session: SnmpSession | undefined;
  try {
    session = new SnmpSession(target, {
      signal: options.signal,
      deadlineMs: options.deadlineMs ?? DEFAULT_SCRAPE_DEADLINE_MS,
    });
    const open = session;
    runs = await Promise.all(
      modules.map(async (module): Promise<SnmpModuleRun> => {
        const t0 = performance.now();
        try {
          const readings = await readModule(open, module);
          families.push(...moduleFamilies(module, readings));
          return { module: module.name, success: true, durationSeconds: (performance.now() - t0) / 1000 };
        } catch (err) {
          const error = err instanceof SnmpError ? err : new SnmpError('protocol', (err as Error).message);
          return {
            module: module.name,
            success: false,
            durationSeconds: (performance.now() - t0) / 1000,
            error,
          };
        }
      }),
    );
  } catch (err) {
    const error = err instanceof SnmpError ? err : new SnmpError('protocol', (err as Error).message);
    runs = modules.map((m) => ({ module: m.name, success: false, durationSeconds: 0, error }));
  } finally {
    session?.close();
    pdus = session?.pdus ?? 0;
    requests = session?.requestsSent ?? 0;
  }
  return scrapeOutcome(runs, families, pdus, requests, started);
}

/** A scrape that failed before any request (its client went away or its deadline passed first). */
export function failedScrape(modules: readonly SnmpModule[], error: SnmpError, started: number): SnmpScrape {
  const runs = modules.map((m) => ({ module: m.name, success: false, durationSeconds: 0, error }));
  return scrapeOutcome(runs, [], 0, 0, started);
}

/** The modules' families plus the scrape's own: up, per-module success and duration, PDUs, reason. */
function scrapeOutcome(
  runs: SnmpModuleRun[],
  moduleFamilies: MetricFamily[],
  pdus: number,
  requests: number,
  started: number,
): SnmpScrape {
  const families = [...moduleFamilies];
  const failed = runs.find((r) => !r.success);
  const failure = failed?.error?.reason;
  const up = !failed;
  families.push(
    {
      name: 'snmp_up',
      help: 'Whether the SNMP agent answered every module of this scrape, 1 or 0.',
      type: 'gauge',
      samples: [{ value: up ? 1 : 0 }],
    },
    {
      name: 'snmp_scrape_collector_success',
      help: 'Whether an SNMP module succeeded in this scrape, 1 or 0.',
      type: 'gauge',
      samples: runs.map((r) => ({ labels: { collector: r.module }, value: r.success ? 1 : 0 })),
    },
    {
      name: 'snmp_scrape_collector_duration_seconds',
      help: 'Time an SNMP module took in this scrape.',
      type: 'gauge',
      samples: runs.map((r) => ({ labels: { collector: r.module }, value: r.durationSeconds })),
    },
    {
      name: 'snmp_scrape_pdus_returned',
      help: 'SNMP response PDUs the agent returned in this scrape.',
      type: 'gauge',
      samples: [{ value: pdus }],
    },
    {
      name: 'snmp_scrape_packets_sent',
      help: 'SNMP requests sent to the agent in this scrape, retries included.',
      type: 'gauge',
      samples: [{ value: requests }],
    },
    {
      name: 'snmp_scrape_duration_seconds',
      help: 'Time the whole SNMP scrape of the target took.',
      type: 'gauge',
      samples: [{ value: (performance.now() - started) / 1000 }],
    },
  );
  if (failure) {
    families.push({
      name: 'snmp_scrape_error',
      help: 'Why the SNMP scrape failed (always 1; the reason is the label).',
      type: 'gauge',
      samples: [{ labels: { reason: failure }, value: 1 }],
    });
  }
  return { families, up, runs, pdus, requests, ...(failure ? { failure } : {}) };
}
