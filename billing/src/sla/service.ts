// SLA reports as a billing feature: maintenance windows, monthly reports per client link (computed
// from Prometheus, rendered to PDF, stored, downloadable, e-mailed), and credits for breached months
// recorded for billing. Monthly on the 1st for the previous month; idempotent per link and month
// (re-running returns the stored report unless forced).
import type express from 'express';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import nodemailer from 'nodemailer';
import { z } from 'zod';
import type { ApiExtension, MountTools } from '../app.js';
import { ApiError, audit, notFound, one, q, tx } from '../db/sql.js';
import type { BillingMetrics } from '../metrics.js';
import { pageSchema, parseBody, present } from '../resources.js';
import { computeSlaMonth, monthBounds, parseMonth, previousMonth } from './calc.js';
import { PdfRenderer } from './report/pdf.js';
import { renderReportHtml, type ProviderBranding } from './report/render.js';
import type { LinkSeries } from './prometheus.js';
import type { SlaMonth } from './types.js';

export interface SlaOptions {
  orm: MikroORM;
  logger: Logger;
  metrics: BillingMetrics;
  clock: () => Date;
  source: { linkSeries(link: string, start: Date, end: Date): Promise<LinkSeries> } | undefined;
  provider: ProviderBranding;
  smtpUrl?: string;
  mailFrom?: string;
  chromiumPath?: string;
  renderConcurrency?: number;
  /** Reports the monthly job prepares at once (default 25): the renderer prints those waiting together
   * in one Chromium document, ~4× less CPU per report than one at a time. */
  monthlyParallel?: number;
  /** Period of the monthly job's check in ms (0 = off); it reports the previous month once per link. */
  monthlyCheckMs?: number;
}

interface LinkRow {
  id: string;
  code: string;
  name: string;
  customer_id: string;
  customer_code: string;
  customer_name: string;
  router_id: string | null;
  bandwidth: string | null;
  service_address: string | null;
  availability_target_percent: string;
  latency_target_ms: string | null;
  loss_target_percent: string | null;
  monthly_fee_idr: string;
  credit_policy: {
    tiers: Array<{ below_availability_percent: number; credit_percent: number }>;
    cap_percent: number;
  };
  contacts: string[] | string;
  time_zone: string;
  no_data_policy: 'down' | 'exclude';
}

export const maintenanceSchema = z.strictObject({
  starts_at: z.iso.datetime({ offset: true }),
  ends_at: z.iso.datetime({ offset: true }),
  reason: z.string().trim().min(1, 'a reason is required').max(500),
  scope: z.enum(['link', 'router']).default('link'),
});

export const reportSchema = z.strictObject({
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, "a month like '2026-04'"),
  force: z.boolean().default(false),
  email: z.boolean().default(true),
});

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

function contactsOf(row: LinkRow): string[] {
  if (Array.isArray(row.contacts)) return row.contacts;
  return row.contacts
    .replace(/^\{|\}$/g, '')
    .split(',')
    .filter(Boolean);
}

/** JSON-safe SLA month (bigints as strings). */
function serialise(sla: SlaMonth): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify({ ...sla, hourly: undefined }, (_k, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v,
    ),
  ) as Record<string, unknown>;
}

export class SlaService implements ApiExtension {
  private renderer: Promise<PdfRenderer> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Map<string, Promise<ReportSummary>>();

  constructor(private readonly o: SlaOptions) {}

  private pdf(): Promise<PdfRenderer> {
    this.renderer ??= PdfRenderer.start({
      ...(this.o.chromiumPath ? { executablePath: this.o.chromiumPath } : {}),
      concurrency: this.o.renderConcurrency ?? 2,
    }).catch((err: unknown) => {
      this.renderer = undefined;
      throw err;
    });
    return this.renderer;
  }

  private async link(id: string): Promise<LinkRow> {
    const row = await one<LinkRow>(
      this.o.orm.em.fork(),
      `select l.*, c.code as customer_code, c.name as customer_name from client_links l join customers c on c.id = l.customer_id where l.id = ?`,
      [id],
    );
    if (!row) throw notFound('client link', id);
    return row;
  }

  /** Computes, renders, stores and (optionally) e-mails one link's report; returns the stored one unless forced. */
  async report(linkId: string, month: string, { force = false, email = true } = {}): Promise<ReportSummary> {
    const key = `${linkId}|${month}`;
    const running = this.inFlight.get(key);
    if (running) return running;
    const p = this.produce(linkId, month, force, email).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }

  private async produce(
    linkId: string,
    month: string,
    force: boolean,
    email: boolean,
  ): Promise<ReportSummary> {
    const link = await this.link(linkId);
    parseMonth(month);
    const existing = await one<{
      id: string;
      availability_percent: string | null;
      breached: boolean;
      credit_idr: string;
    }>(
      this.o.orm.em.fork(),
      'select id, availability_percent, breached, credit_idr from sla_reports where link_id = ? and month = ?',
      [linkId, month],
    );
    if (existing && !force)
      return {
        id: Number(existing.id),
        link: link.code,
        month,
        availability_percent:
          existing.availability_percent === null ? null : Number(existing.availability_percent),
        breached: existing.breached,
        credit_idr: Number(existing.credit_idr),
        created: false,
        emailed_to: [],
      };
    const { start, end } = monthBounds(month, link.time_zone);
    const now = this.o.clock();
    if (end > now) throw new ApiError(409, `month ${month} is not over yet in ${link.time_zone}`);
    if (!this.o.source) throw new ApiError(503, 'SLA reports need PROMETHEUS_URL');
    const series = await this.o.source.linkSeries(link.code, start, end).catch((err: unknown) => {
      throw new ApiError(502, (err as Error).message);
    });
    const windows = await q<{ starts_at: string | Date; ends_at: string | Date; reason: string }>(
      this.o.orm.em.fork(),
      `select starts_at, ends_at, reason from maintenance_windows
        where (link_id = ? or (router_id is not null and router_id = ?)) and starts_at < ? and ends_at > ? order by starts_at`,
      [linkId, link.router_id ?? 0, end, start],
    );
    const maintenance = windows.map((w) => ({
      start: new Date(w.starts_at),
      end: new Date(w.ends_at),
      reason: w.reason,
    }));
    const sla = computeSlaMonth({
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
    const html = renderReportHtml({
      provider: this.o.provider,
      customer: { code: link.customer_code, name: link.customer_name },
      link: {
        code: link.code,
        name: link.name,
        bandwidth: link.bandwidth,
        serviceAddress: link.service_address,
      },
      sla,
      maintenance,
      generatedAt: now,
    });
    let pdf: Buffer;
    try {
      pdf = await (
        await this.pdf()
      ).render(html, { footerLabel: `${this.o.provider.name} · ${link.code} · ${month}` });
    } catch (err) {
      this.o.metrics.slaReports.inc({ outcome: 'failed' });
      throw new ApiError(503, `PDF rendering failed: ${(err as Error).message}`);
    }
    const breached = sla.breaches.availability || sla.breaches.latency || sla.breaches.loss;
    const id = await tx(this.o.orm, async (em) => {
      const row = await one<{ id: string }>(
        em,
        `insert into sla_reports (link_id, month, availability_percent, breached, credit_idr, summary, pdf, created_at)
         values (?, ?, ?, ?, ?, ?::jsonb, ?, ?)
         on conflict (link_id, month) do update set availability_percent = excluded.availability_percent, breached = excluded.breached,
           credit_idr = excluded.credit_idr, summary = excluded.summary, pdf = excluded.pdf, created_at = excluded.created_at, emailed_at = null
         returning id`,
        [
          linkId,
          month,
          sla.availabilityPercent,
          breached,
          sla.credit.amountIdr.toString(),
          JSON.stringify(serialise(sla)),
          pdf,
          now,
        ],
      );
      if (sla.credit.amountIdr > 0n)
        await em.execute(
          `insert into sla_credits (link_id, customer_id, month, credit_percent, amount_idr, created_at) values (?, ?, ?, ?, ?, ?)
           on conflict (link_id, month) do update set credit_percent = excluded.credit_percent, amount_idr = excluded.amount_idr
           where sla_credits.applied_invoice_id is null`,
          [linkId, link.customer_id, month, sla.credit.percent, sla.credit.amountIdr.toString(), now],
          'run',
        );
      await audit(em, now, {
        actor: 'sla',
        entity: 'client_links',
        entityId: linkId,
        action: 'sla_report',
        reason: month,
        detail: {
          availability_percent: sla.availabilityPercent,
          breached,
          credit_idr: sla.credit.amountIdr.toString(),
        },
      });
      return row?.id ?? '0';
    });
    this.o.metrics.slaReports.inc({ outcome: breached ? 'breached' : 'met' });
    const summary: ReportSummary = {
      id: Number(id),
      link: link.code,
      month,
      availability_percent: sla.availabilityPercent,
      breached,
      credit_idr: Number(sla.credit.amountIdr),
      created: true,
      emailed_to: [],
    };
    const to = contactsOf(link);
    if (email && to.length && this.o.smtpUrl) {
      try {
        await this.mail(to, link, month, pdf, sla);
        await this.o.orm.em
          .fork()
          .execute(
            'update sla_reports set emailed_at = ?, email_error = null where id = ?',
            [this.o.clock(), id],
            'run',
          );
        summary.emailed_to = to;
      } catch (err) {
        const message = (err as Error).message.replace(/\/\/[^@/]*@/g, '//***@');
        await this.o.orm.em
          .fork()
          .execute('update sla_reports set email_error = ? where id = ?', [message, id], 'run');
        this.o.logger.warn(
          { event: 'sla_email_failed', link: link.code, month, error: message },
          'SLA report e-mail failed',
        );
        summary.email_error = message;
      }
    }
    this.o.logger.info(
      {
        event: 'sla_report',
        link: link.code,
        month,
        availability_percent: sla.availabilityPercent,
        breached,
      },
      'SLA report produced',
    );
    return summary;
  }

  private async mail(to: string[], link: LinkRow, month: string, pdf: Buffer, sla: SlaMonth): Promise<void> {
    const transport = nodemailer.createTransport(this.o.smtpUrl as string);
    try {
      const availability =
        sla.availabilityPercent === null ? 'n/a' : `${sla.availabilityPercent.toFixed(3)}%`;
      await transport.sendMail({
        from: this.o.mailFrom ?? `${this.o.provider.name} <${this.o.provider.email ?? 'noc@localhost'}>`,
        to,
        subject: `Service level report ${link.code} ${month}: availability ${availability}`,
        text: `Dear ${link.customer_name},\n\nattached is the service level report of ${link.name} (${link.code}) for ${month}.\nAvailability: ${availability} (commitment ${Number(link.availability_target_percent)}%).\n\n${this.o.provider.name}\n`,
        attachments: [
          { filename: `sla-${link.code}-${month}.pdf`, content: pdf, contentType: 'application/pdf' },
        ],
      });
    } finally {
      transport.close();
    }
  }

  /** Reports the previous month for every active link that has none yet (the monthly run). */
  async runMonthly(): Promise<{ produced: number; failed: number }> {
    const links = await q<{ id: string; time_zone: string }>(
      this.o.orm.em.fork(),
      'select id, time_zone from client_links where active order by id',
    );
    let produced = 0;
    let failed = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let l = links[next++]; l !== undefined; l = links[next++]) {
        const month = previousMonth(this.o.clock(), l.time_zone);
        try {
          if ((await this.report(l.id, month)).created) produced += 1;
        } catch (err) {
          failed += 1;
          this.o.logger.error(
            { event: 'sla_report_failed', link_id: l.id, month, error: (err as Error).message },
            'SLA report failed',
          );
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.o.monthlyParallel ?? 25) }, worker));
    return { produced, failed };
  }

  mount(api: express.Router, t: MountTools): void {
    api.get(
      '/links/:id/maintenance',
      t.read,
      t.h(async (req) =>
        (
          await q<Record<string, unknown>>(
            this.o.orm.em.fork(),
            'select * from maintenance_windows where link_id = ? order by starts_at desc',
            [t.id(req)],
          )
        ).map((r) => present(undefined, r)),
      ),
    );
    api.post(
      '/links/:id/maintenance',
      t.write,
      t.h(async (req) => {
        const body = parseBody(maintenanceSchema, req.body);
        if (Date.parse(body.ends_at) <= Date.parse(body.starts_at))
          throw new ApiError(400, 'ends_at: must be after starts_at', 'ends_at');
        const link = await this.link(t.id(req));
        if (body.scope === 'router' && !link.router_id)
          throw new ApiError(400, 'scope: the link has no router', 'scope');
        return tx(this.o.orm, async (em) => {
          const row = await one<Record<string, unknown>>(
            em,
            'insert into maintenance_windows (link_id, router_id, starts_at, ends_at, reason, created_by) values (?, ?, ?, ?, ?, ?) returning *',
            [
              body.scope === 'link' ? link.id : null,
              body.scope === 'router' ? link.router_id : null,
              new Date(body.starts_at),
              new Date(body.ends_at),
              body.reason,
              t.actor(req),
            ],
          );
          await audit(em, t.now(), {
            actor: t.actor(req),
            entity: 'maintenance_windows',
            entityId: String(row?.id),
            action: 'create',
            reason: body.reason,
            detail: { link: link.code, scope: body.scope },
          });
          return present(undefined, row ?? {});
        });
      }, 201),
    );
    api.delete(
      '/maintenance/:id',
      t.write,
      t.h(async (req) => {
        const id = t.id(req);
        await tx(this.o.orm, async (em) => {
          const rows = await q(em, 'delete from maintenance_windows where id = ? returning id', [id]);
          if (!rows.length) throw notFound('maintenance window', id);
          await audit(em, t.now(), {
            actor: t.actor(req),
            entity: 'maintenance_windows',
            entityId: id,
            action: 'delete',
          });
        });
        return undefined;
      }),
    );
    api.post(
      '/links/:id/reports',
      t.write,
      t.h(async (req) => {
        const body = parseBody(reportSchema, req.body);
        return this.report(t.id(req), body.month, { force: body.force, email: body.email });
      }, 201),
    );
    api.get(
      '/links/:id/reports',
      t.read,
      t.h(async (req) => {
        const page = parseBody(pageSchema, req.query);
        const rows = await q<Record<string, unknown>>(
          this.o.orm.em.fork(),
          'select id, link_id, month, availability_percent, breached, credit_idr, created_at, emailed_at, email_error, summary from sla_reports where link_id = ? order by month desc limit ? offset ?',
          [t.id(req), page.limit, page.offset],
        );
        return {
          items: rows.map((r) => ({
            ...present(undefined, r),
            availability_percent: r.availability_percent === null ? null : Number(r.availability_percent),
          })),
          limit: page.limit,
          offset: page.offset,
        };
      }),
    );
    api.get(
      '/reports/:id/pdf',
      t.read,
      t.h(async (req, res) => {
        const row = await one<{ pdf: Buffer; month: string; code: string }>(
          this.o.orm.em.fork(),
          'select r.pdf, r.month, l.code from sla_reports r join client_links l on l.id = r.link_id where r.id = ?',
          [t.id(req)],
        );
        if (!row) throw notFound('report', t.id(req));
        res
          .type('application/pdf')
          .setHeader('content-disposition', `attachment; filename="sla-${row.code}-${row.month}.pdf"`);
        res.send(Buffer.from(row.pdf));
        return undefined;
      }),
    );
    api.get(
      '/sla-credits',
      t.read,
      t.h(async () =>
        (
          await q<Record<string, unknown>>(
            this.o.orm.em.fork(),
            'select * from sla_credits order by id desc limit 500',
          )
        ).map((r) => present(undefined, r)),
      ),
    );
    api.post(
      '/sla/run-monthly',
      t.write,
      t.h(async () => this.runMonthly()),
    );
  }

  start(): void {
    const period = this.o.monthlyCheckMs ?? 3_600_000;
    if (period === 0) return;
    this.timer = setInterval(() => {
      // On the 1st (in UTC+14 … UTC-12 that spans two UTC days) reports the previous month once per link.
      void this.runMonthly().catch((err: unknown) =>
        this.o.logger.error(
          { event: 'sla_monthly_failed', error: (err as Error).message },
          'monthly SLA run failed',
        ),
      );
    }, period);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled(this.inFlight.values());
    const r = await this.renderer?.catch(() => undefined);
    await r?.close();
  }
}

export { monthBounds };
