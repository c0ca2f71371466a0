// The one shape every collector (RouterOS, SNMP, probe) returns, and the one encoder that turns it into
// the Prometheus text exposition format (version 0.0.4). Per-target output is built from plain data
// instead of a prom-client Registry per request: cheaper for 1,000 targets, and exact for Counter64
// values (bigint), which prom-client would round through a double.

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'untyped';

export type SampleValue = number | bigint;

export interface Sample {
  /** Label names and values; the family name's suffix (e.g. `_bucket`) goes in `suffix`. */
  labels?: Record<string, string>;
  value: SampleValue;
  /** Appended to the family name, for histogram series: `_bucket`, `_sum`, `_count`. */
  suffix?: string;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeHelp(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
}

function escapeLabelValue(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"');
}

/** Formats a value as Prometheus does: integers exactly (bigint too), NaN/±Inf spelled out. */
export function formatValue(value: SampleValue): string {
  if (typeof value === 'bigint') return value.toString();
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function formatLabels(labels: Record<string, string> | undefined): string {
  if (!labels) return '';
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
}

/** Throws on names Prometheus would reject, so a bad user-declared OID name fails at config load, not at scrape. */
export function assertValidMetricName(name: string): void {
  if (!NAME_RE.test(name)) throw new Error(`invalid metric name '${name}'`);
}

export function assertValidLabelName(name: string): void {
  if (!LABEL_RE.test(name) || name.startsWith('__')) throw new Error(`invalid label name '${name}'`);
}

/**
 * Encodes families in the text format. Families with the same name are merged (first HELP/TYPE wins),
 * so collectors may emit a family in parts.
 */
export function encodeText(families: Iterable<MetricFamily>): string {
  const merged = new Map<string, MetricFamily>();
  for (const family of families) {
    const existing = merged.get(family.name);
    if (existing) existing.samples.push(...family.samples);
    else merged.set(family.name, { ...family, samples: [...family.samples] });
  }
  const lines: string[] = [];
  for (const family of merged.values()) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      lines.push(
        `${family.name}${sample.suffix ?? ''}${formatLabels(sample.labels)} ${formatValue(sample.value)}`,
      );
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
