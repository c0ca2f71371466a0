import type { MetricFamily, SampleValue } from '../../exposition.js';
import type { RouterOsRow } from '@ispmon/routeros';

/** One RouterOS print a collector needs; the engine pipelines every command of a scrape. */
export interface RouterOsCommand {
  path: string;
  /** Fields to ask for (`=.proplist=`); omit to get every field (e.g. health, whose fields vary by version). */
  proplist?: readonly string[];
  /** Query words (`?dynamic=false`) so the router filters rows before sending them. */
  queries?: readonly string[];
}

export interface RouterOsModuleOptions {
  /** Export per-subscriber PPP metrics (uptime, bytes). Off by default: one series per subscriber. */
  pppSessionDetail: boolean;
  /** Upper bound on per-subscriber series per router when detail is on. */
  pppSessionLimit: number;
  /** Include dynamic simple queues (one per PPP subscriber with a rate limit) in the queue metrics. */
  dynamicQueues: boolean;
}

/**
 * A RouterOS collector in the manner of node_exporter's: registered by name, enabled per module,
 * describing what it reads (`commands`) apart from how it exposes it (`collect`).
 */
export interface RouterOsCollector {
  readonly name: string;
  readonly defaultEnabled: boolean;
  commands(options: RouterOsModuleOptions): RouterOsCommand[];
  /**
   * Turns the rows of each command (same order as `commands`) into metric families. A command that
   * failed is `undefined`: export what the others returned, never a made-up value (a 0) for it.
   */
  collect(results: ReadonlyArray<RouterOsRow[] | undefined>, options: RouterOsModuleOptions): MetricFamily[];
}

/** One field of a table row exported as one metric family. */
export interface FieldMetric {
  field: string;
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  parse: (value: string | undefined) => SampleValue | undefined;
}

/**
 * The table engine: every row becomes one sample per field metric, labelled from the row
 * (label name → field). Rows missing a value skip that sample only.
 */
export function tableFamilies(
  rows: RouterOsRow[],
  labels: Record<string, string>,
  metrics: readonly FieldMetric[],
): MetricFamily[] {
  return metrics.map((m) => ({
    name: m.name,
    help: m.help,
    type: m.type,
    samples: rows.flatMap((row) => {
      const value = m.parse(row[m.field]);
      if (value === undefined) return [];
      const sampleLabels: Record<string, string> = {};
      for (const [label, field] of Object.entries(labels)) sampleLabels[label] = row[field] ?? '';
      return [{ labels: sampleLabels, value }];
    }),
  }));
}

/** Counts rows by the values of some fields: e.g. sessions by service. */
export function countBy(
  rows: RouterOsRow[],
  key: (row: RouterOsRow) => Record<string, string>,
): Array<{ labels: Record<string, string>; value: number }> {
  const counts = new Map<string, { labels: Record<string, string>; value: number }>();
  for (const row of rows) {
    const labels = key(row);
    const id = JSON.stringify(labels);
    const entry = counts.get(id);
    if (entry) entry.value += 1;
    else counts.set(id, { labels, value: 1 });
  }
  return [...counts.values()];
}
