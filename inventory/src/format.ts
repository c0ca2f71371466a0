// The inventory's file format (README, "Contracts between components"): one exporter target file per
// writer (exporter/<writer>.yml: routers and probe targets, as the exporter's targets schema reads
// them) and Prometheus file_sd files (file_sd/<job>[-<writer>].json) naming the same targets with their
// labels. Billing and the device lab both write it through these functions, so the format lives once.
import { stringify } from 'yaml';

/** A secret as the exporter reads it: inline (lab only), or a file next to the inventory (billing). */
export type SecretValue = string | { file: string };

export interface RouterTarget {
  name: string;
  host: string;
  port: number;
  /** TLS (API-SSL) settings, or false for the plain API. */
  tls?: false | { insecure_skip_verify?: boolean };
  username: string;
  password: SecretValue;
  labels: Record<string, string>;
}

export interface ProbeTarget {
  name: string;
  host: string;
  protocol: 'icmp' | 'tcp';
  port?: number;
  labels: Record<string, string>;
}

/** The exporter's target file: a comment naming the writer, then routers and probes. */
export function renderExporterTargets(
  writer: string,
  targets: { routers: RouterTarget[]; probes?: ProbeTarget[] },
): string {
  const body: Record<string, unknown> = { routers: targets.routers };
  if (targets.probes) body.probes = targets.probes;
  return `# written by ${writer}; edit it there, not here\n${stringify(body)}`;
}

export interface FileSdGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** A Prometheus file_sd document: one group per target, named as the exporter knows it. */
export function renderFileSd(groups: FileSdGroup[]): string {
  return `${JSON.stringify(groups, null, 2)}\n`;
}

/** file_sd groups of RouterOS routers (scraped through the exporter's /probe with module routeros). */
export function routerFileSd(routers: Array<{ name: string; labels: Record<string, string> }>): string {
  return renderFileSd(
    routers.map((r) => ({ targets: [r.name], labels: { router: r.name, ...r.labels, module: 'routeros' } })),
  );
}

/** file_sd groups of client-link probe targets (module icmp or tcp). */
export function probeFileSd(
  probes: Array<{ name: string; protocol: 'icmp' | 'tcp'; labels: Record<string, string> }>,
): string {
  return renderFileSd(
    probes.map((p) => ({ targets: [p.name], labels: { link: p.name, ...p.labels, module: p.protocol } })),
  );
}
