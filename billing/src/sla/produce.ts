// One link's report for one month as a pipeline of named steps:
//   loadLink → findStored → closedPeriod → readSeries → maintenanceWithin → computeMonth → render
//   → store (report row, recordCredit, audit in one transaction) → deliver.
// Idempotent per link and month: a stored report is returned unless forced.
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { ApiError, audit, exec, one, tx, type Em } from '../db/sql.js';
import type { BillingMetrics } from '../metrics.js';
import { computeSlaMonth, monthBounds, parseMonth } from './calc.js';
import { contactsOf, loadLink, type SlaLink } from './link.js';
import { redactCredentials, type ReportMailer } from './mail.js';
import { maintenanceWithin, type MaintenanceWindow } from './maintenance.js';
import type { LinkSeries } from './prometheus.js';
import type { PdfRenderer } from './report/pdf.js';
import { renderReportHtml, type ProviderBranding } from './report/render.js';
import type { SlaMonth, TimeWindow } from './types.js';

export interface SeriesSource {
  linkSeries(link: string, start: Date, end: Date): Promise<LinkSeries>;
}

export interface ProduceDeps {
  orm: MikroORM;
  logger: Logger;
  metrics: BillingMetrics;
  clock: () => Date;
  source: SeriesSource | undefined;
  provider: ProviderBranding;
  /** The shared Chromium renderer, started on first use. */
  pdf: () => Promise<PdfRenderer>;
  /** Absent without SMTP_URL: reports are stored, not e-mailed. */
  mailer: ReportMailer | undefined;
}

export interface ReportRequest {
  linkId: string;
  month: string;
  force: boolean;
  email: boolean;
}

export interface ReportSummary {
  id: number;
  link: string;
  month: string;
  availability_percent: number | null;
  breached: boolean;
  credit_idr: number;
  created: boolean;
  emailed_to: string[];
  email_error?: string;
}

export interface Delivery {
  emailed_to: string[];
  email_error?: string;
}

export async function produce(d: ProduceDeps, r: ReportRequest): Promise<ReportSummary> {
  const link = await loadLink(d.orm, r.linkId);
  parseMonth(r.month);
  const stored = await findStored(d.orm, link, r.month);
  if (stored && !r.force) return stored;
  const now = d.clock();
  const period = closedPeriod(link, r.month, now);
  const series = await readSeries(d.source, link, period);
  const maintenance = await maintenanceWithin(d.orm, link, period);
  const sla = computeMonth(link, r.month, series, maintenance);
  const pdf = await render(d, { link, month: r.month, sla, maintenance, now });
  const breached = sla.breaches.availability || sla.breaches.latency || sla.breaches.loss;
  const id = await store(d.orm, { link, month: r.month, sla, breached, pdf, now });
  d.metrics.slaReports.inc({ outcome: breached ? 'breached' : 'met' });
  const delivery: Delivery = r.email
    ? await deliver(d, { link, month: r.month, sla, pdf, reportId: id })
    : { emailed_to: [] };
  d.logger.info(
    {
      event: 'sla_report',
      link: link.code,
      month: r.month,
      availability_percent: sla.availabilityPercent,
      breached,
    },
    'SLA report produced',
  );
  return {
    id,
    link: link.code,
    month: r.month,
    availability_percent: sla.availabilityPercent,
    breached,
    credit_idr: Number(sla.credit.amountIdr),
    created: true,
    ...delivery,
  };
}

/** The report already stored for the link and month, as a summary (created: false). */
export async function findStored(
  orm: MikroORM,
  link: SlaLink,
  month: string,
): Promise<ReportSummary | undefined> {
  const row = await one<{
    id: string;
    availability_percent: string | null;
    breached: boolean;
    credit_idr: string;
  }>(
    orm.em.fork(),
    'select id, availability_percent, breached, credit_idr from sla_reports where link_id = ? and month = ?',
    [link.id, month],
  );
  if (!row) return undefined;
  return {
    id: Number(row.id),
    link: link.code,
    month,
    availability_percent: row.availability_percent === null ? null : Number(row.availability_percent),
    breached: row.breached,
    credit_idr: Number(row.credit_idr),
    created: false,
    emailed_to: [],
  };
}

/** The month's bounds in the link's zone; a month not over yet has no report (409). */
export function closedPeriod(link: SlaLink, month: string, now: Date): TimeWindow {
  const { start, end } = monthBounds(month, link.time_zone);
  if (end > now) throw new ApiError(409, `month ${month} is not over yet in ${link.time_zone}`);
  return { start, end };
}

export async function readSeries(
  source: SeriesSource | undefined,
  link: SlaLink,
  period: TimeWindow,
): Promise<LinkSeries> {
  if (!source) throw new ApiError(503, 'SLA reports need PROMETHEUS_URL');
  return source.linkSeries(link.code, period.start, period.end).catch((err: unknown) => {
    throw new ApiError(502, (err as Error).message);
  });
}

/** The link's commitments and credit policy over its measurements (pure). */
export function computeMonth(
  link: SlaLink,
  month: string,
  series: LinkSeries,
  maintenance: MaintenanceWindow[],
): SlaMonth {
  return computeSlaMonth({
    month,
    timeZone: link.time_zone,
    ...series,
    maintenance,
    noDataPolicy: link.no_data_policy,
    commitments: {
      availabilityPercent: Number(link.availability_target_percent),
      latencyMs: link.latency_target_ms === null ? null : Number(link.latency_target_ms),
      lossPercent: link.loss_target_percent === null ? null : Number(link.loss_target_percent),
    },
    monthlyFeeIdr: BigInt(link.monthly_fee_idr),
    creditPolicy: {
      tiers: link.credit_policy.tiers.map((t) => ({
        belowAvailabilityPercent: t.below_availability_percent,
        creditPercent: t.credit_percent,
      })),
      capPercent: link.credit_policy.cap_percent,
    },
  });
}

/** The report as PDF; a renderer failure counts as a failed report and answers 503. */
export async function render(
  d: Pick<ProduceDeps, 'provider' | 'pdf' | 'metrics'>,
  r: { link: SlaLink; month: string; sla: SlaMonth; maintenance: MaintenanceWindow[]; now: Date },
): Promise<Buffer> {
  const html = renderReportHtml({
    provider: d.provider,
    customer: { code: r.link.customer_code, name: r.link.customer_name },
    link: {
      code: r.link.code,
      name: r.link.name,
      bandwidth: r.link.bandwidth,
      serviceAddress: r.link.service_address,
    },
    sla: r.sla,
    maintenance: r.maintenance,
    generatedAt: r.now,
  });
  try {
    return await (
      await d.pdf()
    ).render(html, { footerLabel: `${d.provider.name} · ${r.link.code} · ${r.month}` });
  } catch (err) {
    d.metrics.slaReports.inc({ outcome: 'failed' });
    throw new ApiError(503, `PDF rendering failed: ${(err as Error).message}`);
  }
}

/** Stores (or, forced, replaces) the report, records its credit and audits it in one transaction; returns its id. */
export function store(
  orm: MikroORM,
  r: { link: SlaLink; month: string; sla: SlaMonth; breached: boolean; pdf: Buffer; now: Date },
): Promise<number> {
  return tx(orm, async (em) => {
    const row = await one<{ id: string }>(
      em,
      `insert into sla_reports (link_id, month, availability_percent, breached, credit_idr, summary, pdf, created_at)
       values (?, ?, ?, ?, ?, ?::jsonb, ?, ?)
       on conflict (link_id, month) do update set availability_percent = excluded.availability_percent, breached = excluded.breached,
         credit_idr = excluded.credit_idr, summary = excluded.summary, pdf = excluded.pdf, created_at = excluded.created_at, emailed_at = null
       returning id`,
      [
        r.link.id,
        r.month,
        r.sla.availabilityPercent,
        r.breached,
        r.sla.credit.amountIdr.toString(),
        JSON.stringify(serialise(r.sla)),
        r.pdf,
        r.now,
      ],
    );
    await recordCredit(em, r);
    await audit(em, r.now, {
      actor: 'sla',
      entity: 'client_links',
      entityId: r.link.id,
      action: 'sla_report',
      reason: r.month,
      detail: {
        availability_percent: r.sla.availabilityPercent,
        breached: r.breached,
        credit_idr: r.sla.credit.amountIdr.toString(),
      },
    });
    return Number(row?.id ?? '0');
  });
}

/** A breached month's credit for the billing cycle; one already applied to an invoice stays as it was. */
export async function recordCredit(
  em: Em,
  r: { link: SlaLink; month: string; sla: SlaMonth; now: Date },
): Promise<void> {
  if (r.sla.credit.amountIdr <= 0n) return;
  await exec(
    em,
    `insert into sla_credits (link_id, customer_id, month, credit_percent, amount_idr, created_at) values (?, ?, ?, ?, ?, ?)
     on conflict (link_id, month) do update set credit_percent = excluded.credit_percent, amount_idr = excluded.amount_idr
     where sla_credits.applied_invoice_id is null`,
    [r.link.id, r.link.customer_id, r.month, r.sla.credit.percent, r.sla.credit.amountIdr.toString(), r.now],
  );
}

/** E-mails the report to the link's contacts (with SMTP configured) and records the outcome on the report. */
export async function deliver(
  d: Pick<ProduceDeps, 'orm' | 'logger' | 'clock' | 'mailer'>,
  r: { link: SlaLink; month: string; sla: SlaMonth; pdf: Buffer; reportId: number },
): Promise<Delivery> {
  const to = contactsOf(r.link);
  if (!to.length || !d.mailer) return { emailed_to: [] };
  try {
    await d.mailer.send({ to, link: r.link, month: r.month, pdf: r.pdf, sla: r.sla });
    await exec(d.orm.em.fork(), 'update sla_reports set emailed_at = ?, email_error = null where id = ?', [
      d.clock(),
      r.reportId,
    ]);
    return { emailed_to: to };
  } catch (err) {
    const message = redactCredentials((err as Error).message);
    await exec(d.orm.em.fork(), 'update sla_reports set email_error = ? where id = ?', [message, r.reportId]);
    d.logger.warn(
      { event: 'sla_email_failed', link: r.link.code, month: r.month, error: message },
      'SLA report e-mail failed',
    );
    return { emailed_to: [], email_error: message };
  }
}

/** JSON-safe SLA month (bigints as strings, without the hourly chart points). */
function serialise(sla: SlaMonth): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify({ ...sla, hourly: undefined }, (_k, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v,
    ),
  ) as Record<string, unknown>;
}
