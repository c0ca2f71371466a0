// The SLA report as HTML: a view model of formatted figures, laid out by the handlebars template in
// billing/templates/sla-report.hbs (compiled once). Rendered to PDF by pdf.ts.
import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import type { SlaMonth } from '../types.js';
import { dailyAvailabilityChart, latencyChart, lossChart } from './charts.js';

export interface ProviderBranding {
  name: string;
  address?: string;
  email?: string;
  phone?: string;
  /** The logo: inline SVG markup (trusted: it comes from the operator's configuration) or a data:image/… URL. */
  logoSvg?: string;
  accentColor?: string;
}

export interface ReportContext {
  provider: ProviderBranding;
  customer: { code: string; name: string };
  link: { code: string; name: string; serviceAddress?: string | null; bandwidth?: string | null };
  sla: SlaMonth;
  maintenance: Array<{ start: Date; end: Date; reason: string }>;
  generatedAt: Date;
}

let template: Handlebars.TemplateDelegate | undefined;
function compiled(): Handlebars.TemplateDelegate {
  template ??= Handlebars.create().compile(
    readFileSync(new URL('../../../templates/sla-report.hbs', import.meta.url), 'utf8'),
    { strict: false },
  );
  return template;
}

export function formatIdr(v: bigint): string {
  const digits = (v < 0n ? -v : v).toString().replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  return `${v < 0n ? '-' : ''}Rp ${digits}`;
}

const pct = (v: number | null, digits = 3): string => (v === null ? 'n/a' : `${v.toFixed(digits)}%`);

/** '37 min', '2 h', '1 d 3 h 5 min'. */
export function formatDuration(minutes: number): string {
  const total = Math.round(minutes);
  const d = Math.floor(total / 1440);
  const h = Math.floor((total % 1440) / 60);
  const m = total % 60;
  const parts = [d ? `${d} d` : '', h ? `${h} h` : '', m || total === 0 ? `${m} min` : ''];
  return parts.filter(Boolean).join(' ');
}

/** Inline SVG markup as is, a data:image URL as an <img>, anything else left out. */
function logo(markup: string | undefined): { inline?: string; url?: string } {
  const v = markup?.trim() ?? '';
  if (/^(<\?xml[^>]*>\s*)?<svg[\s>]/i.test(v)) return { inline: v };
  if (/^data:image\/(svg\+xml|png|jpeg|gif|webp)[;,]/i.test(v)) return { url: v };
  return {};
}

/** The zone's UTC offset at `at`, e.g. 'GMT+7'. */
function offsetName(at: Date, timeZone: string): string {
  return (
    new Intl.DateTimeFormat('en-GB', { timeZone, timeZoneName: 'shortOffset' })
      .formatToParts(at)
      .find((p) => p.type === 'timeZoneName')?.value ?? ''
  );
}

/** Minutes of `span` covered by `periods` (disjoint). */
function overlapMinutes(
  span: { start: Date; end: Date },
  periods: ReadonlyArray<{ start: Date; end: Date }>,
): number {
  let ms = 0;
  for (const p of periods)
    ms += Math.max(
      0,
      Math.min(span.end.getTime(), p.end.getTime()) - Math.max(span.start.getTime(), p.start.getTime()),
    );
  return ms / 60_000;
}

export function renderReportHtml(ctx: ReportContext): string {
  const { sla } = ctx;
  const tz = sla.timeZone;
  // In a month with a DST change every time carries its offset (02:30 happens twice in October).
  const offsetChanges =
    offsetName(sla.periodStart, tz) !== offsetName(new Date(sla.periodEnd.getTime() - 1), tz);
  const dateTime = new Intl.DateTimeFormat('en-GB', {
    timeZone: tz,
    year: 'numeric',
    month: 'short',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    ...(offsetChanges ? { timeZoneName: 'shortOffset' as const } : {}),
  });
  const date = new Intl.DateTimeFormat('en-GB', {
    timeZone: tz,
    year: 'numeric',
    month: 'short',
    day: '2-digit',
  });
  const monthLabel = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'UTC',
    year: 'numeric',
    month: 'long',
  }).format(new Date(`${sla.month}-15T00:00:00Z`));
  const accent =
    ctx.provider.accentColor && /^#[0-9a-fA-F]{3,8}$/.test(ctx.provider.accentColor)
      ? ctx.provider.accentColor
      : '#1f5fa8';
  const c = sla.commitments;
  const ms = (v: number | null): string => (v === null ? 'n/a' : `${v.toFixed(2)} ms`);
  const summary = [
    {
      name: 'Availability',
      commitment: `≥ ${c.availabilityPercent}%`,
      achieved: pct(sla.availabilityPercent),
      committed: true,
      breached: sla.breaches.availability,
    },
    {
      name: 'Latency (monthly mean)',
      commitment: c.latencyMs === null ? '—' : `≤ ${c.latencyMs} ms`,
      achieved:
        sla.latency.meanMs === null
          ? 'n/a'
          : `${ms(sla.latency.meanMs)}${sla.latency.p95Ms === null ? '' : ` (p95 ${ms(sla.latency.p95Ms)})`}`,
      committed: c.latencyMs !== null,
      breached: sla.breaches.latency,
    },
    {
      name: 'Packet loss',
      commitment: c.lossPercent === null ? '—' : `≤ ${c.lossPercent}%`,
      achieved: pct(sla.lossPercent),
      committed: c.lossPercent !== null,
      breached: sla.breaches.loss,
    },
  ].map((s) => ({
    ...s,
    status: !s.committed ? 'none' : s.breached ? 'breached' : 'met',
    statusText: !s.committed ? 'No commitment' : s.breached ? 'Breached' : 'Met',
  }));
  const breached = summary.filter((s) => s.committed && s.breached);
  const anyBreach = breached.length > 0;
  const logoParts = logo(ctx.provider.logoSvg);
  return compiled()({
    accent,
    logo: logoParts,
    provider: ctx.provider,
    customer: ctx.customer,
    link: ctx.link,
    period: {
      label: monthLabel,
      range: `${date.format(sla.periodStart)} – ${date.format(new Date(sla.periodEnd.getTime() - 1))}`,
      zone: tz,
    },
    verdict: anyBreach
      ? `Commitment breached: ${breached.map((s) => s.name.replace(/ \(.*\)$/, '').toLowerCase()).join(', ')}`
      : 'All commitments met',
    verdictClass: anyBreach ? 'breached' : 'met',
    summary,
    minutes: {
      ...Object.fromEntries(Object.entries(sla.minutes).map(([k, v]) => [k, v.toLocaleString('en-US')])),
      countedDown: (sla.minutes.down + (sla.noDataPolicy === 'down' ? sla.minutes.noData : 0)).toLocaleString(
        'en-US',
      ),
      counted: (
        sla.minutes.up +
        sla.minutes.down +
        (sla.noDataPolicy === 'down' ? sla.minutes.noData : 0)
      ).toLocaleString('en-US'),
    },
    noDataCountsAsDown: sla.noDataPolicy === 'down',
    coverage: pct(sla.coveragePercent, 2),
    noDataNote:
      sla.noDataPolicy === 'down'
        ? 'A minute is down when more than half of its probes failed. Minutes without measurements count as down (counted down = down + no data).'
        : 'A minute is down when more than half of its probes failed. Minutes without measurements are excluded from availability; measurement coverage shows how much of the period was measured.',
    credit: {
      owed: sla.credit.amountIdr > 0n,
      amount: formatIdr(sla.credit.amountIdr),
      percent: `${sla.credit.percent}%`,
      fee: formatIdr(sla.monthlyFeeIdr),
    },
    charts: {
      daily: dailyAvailabilityChart(sla, accent),
      latency: latencyChart(sla, accent),
      loss: lossChart(sla, accent),
    },
    commitments: {
      availability: `${c.availabilityPercent}%`,
      latency: c.latencyMs === null ? null : `${c.latencyMs} ms`,
      loss: c.lossPercent === null ? null : `${c.lossPercent}%`,
    },
    incidents: sla.incidents.map((i, n) => {
      const noData = overlapMinutes(i, sla.noDataPeriods);
      const notes = [
        i.start.getTime() === sla.periodStart.getTime() ? 'began before the period' : '',
        i.end.getTime() === sla.periodEnd.getTime() ? 'continues after the period' : '',
        noData === i.durationMinutes
          ? 'no measurements (counted as down)'
          : noData > 0
            ? `${formatDuration(noData)} without measurements (counted as down)`
            : '',
      ].filter(Boolean);
      return {
        n: n + 1,
        start: dateTime.format(i.start),
        end:
          i.end.getTime() === sla.periodEnd.getTime()
            ? `${dateTime.format(i.end)} (period end)`
            : dateTime.format(i.end),
        duration: formatDuration(i.durationMinutes),
        note: notes.join('; '),
      };
    }),
    noDataPeriods: sla.noDataPeriods.map((g) => ({
      start: dateTime.format(g.start),
      end: dateTime.format(g.end),
      duration: formatDuration(g.durationMinutes),
    })),
    maintenance: ctx.maintenance.map((m) => ({
      start: dateTime.format(m.start),
      end: dateTime.format(m.end),
      duration: formatDuration((m.end.getTime() - m.start.getTime()) / 60_000),
      reason: m.reason,
    })),
    generatedAt: `${dateTime.format(ctx.generatedAt)} ${tz}`,
  });
}
