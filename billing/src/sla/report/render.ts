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
  /** Inline SVG markup of the logo (trusted: it comes from the operator's configuration). */
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

export function formatDuration(minutes: number): string {
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = Math.round(minutes % 60);
  return [d ? `${d} d` : '', h ? `${h} h` : '', `${m} min`].filter(Boolean).join(' ');
}

export function renderReportHtml(ctx: ReportContext): string {
  const { sla } = ctx;
  const tz = sla.timeZone;
  const dateTime = new Intl.DateTimeFormat('en-GB', {
    timeZone: tz,
    year: 'numeric',
    month: 'short',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
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
  const summary = [
    {
      name: 'Availability',
      commitment: `≥ ${c.availabilityPercent}%`,
      achieved: pct(sla.availabilityPercent),
      breached: sla.breaches.availability,
    },
    ...(c.latencyMs !== null
      ? [
          {
            name: 'Latency (monthly mean)',
            commitment: `≤ ${c.latencyMs} ms`,
            achieved:
              sla.latency.meanMs === null
                ? 'n/a'
                : `${sla.latency.meanMs.toFixed(2)} ms (p95 ${sla.latency.p95Ms?.toFixed(2)} ms)`,
            breached: sla.breaches.latency,
          },
        ]
      : []),
    ...(c.lossPercent !== null
      ? [
          {
            name: 'Packet loss',
            commitment: `≤ ${c.lossPercent}%`,
            achieved: pct(sla.lossPercent),
            breached: sla.breaches.loss,
          },
        ]
      : []),
  ].map((s) => ({
    ...s,
    status: s.breached ? 'breached' : 'met',
    statusText: s.breached ? 'Breached' : 'Met',
  }));
  const anyBreach = summary.some((s) => s.breached);
  return compiled()({
    accent,
    logoSvg: ctx.provider.logoSvg,
    provider: ctx.provider,
    customer: ctx.customer,
    link: ctx.link,
    period: {
      label: monthLabel,
      range: `${date.format(sla.periodStart)} – ${date.format(new Date(sla.periodEnd.getTime() - 1))}`,
      zone: tz,
    },
    verdict: anyBreach
      ? `Commitment breached: ${summary
          .filter((s) => s.breached)
          .map((s) => s.name.toLowerCase())
          .join(', ')}`
      : 'All commitments met',
    anyBreach,
    summary,
    minutes: Object.fromEntries(Object.entries(sla.minutes).map(([k, v]) => [k, v.toLocaleString('en-US')])),
    coverage: pct(sla.coveragePercent, 2),
    noDataNote:
      sla.noDataPolicy === 'down'
        ? 'Minutes without measurements count as down.'
        : 'Minutes without measurements are excluded from availability; measurement coverage shows how much of the period was measured.',
    credit: {
      amount: formatIdr(sla.credit.amountIdr),
      percent: `${sla.credit.percent}%`,
      fee: formatIdr(sla.monthlyFeeIdr),
    },
    charts: {
      daily: dailyAvailabilityChart(sla, accent),
      latency: latencyChart(sla, accent),
      loss: lossChart(sla, accent),
    },
    incidents: sla.incidents.map((i, n) => ({
      n: n + 1,
      start: dateTime.format(i.start),
      end: dateTime.format(i.end),
      duration: formatDuration(i.durationMinutes),
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
