// The SLA's HTTP routes (mounted into billing's API by SlaService.mount): maintenance windows, reports
// (produce, list, PDF), credits and the monthly run on demand. Handlers parse and answer; the rooms work.
import type express from 'express';
import type { MikroORM } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { MountTools } from '../app.js';
import { notFound, one, q } from '../db/sql.js';
import { pageSchema, parseBody, present } from '../resources.js';
import { createMaintenance, deleteMaintenance, listMaintenance, maintenanceSchema } from './maintenance.js';
import type { MonthlyRun } from './monthly.js';
import type { ReportSummary } from './produce.js';

export const reportSchema = z.strictObject({
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, "a month like '2026-04'"),
  force: z.boolean().default(false),
  email: z.boolean().default(true),
});

export interface SlaRouteDeps {
  orm: MikroORM;
  report(linkId: string, month: string, o: { force: boolean; email: boolean }): Promise<ReportSummary>;
  runMonthly(): Promise<MonthlyRun>;
}

export function mountSlaRoutes(api: express.Router, t: MountTools, d: SlaRouteDeps): void {
  api.get(
    '/links/:id/maintenance',
    t.read,
    t.h(async (req) => listMaintenance(d.orm, t.id(req))),
  );
  api.post(
    '/links/:id/maintenance',
    t.write,
    t.h(
      async (req) =>
        createMaintenance(d.orm, t.id(req), parseBody(maintenanceSchema, req.body), t.actor(req), t.now()),
      201,
    ),
  );
  api.delete(
    '/maintenance/:id',
    t.write,
    t.h(async (req) => {
      await deleteMaintenance(d.orm, t.id(req), t.actor(req), t.now());
      return undefined;
    }),
  );
  api.post(
    '/links/:id/reports',
    t.write,
    t.h(async (req) => {
      const body = parseBody(reportSchema, req.body);
      return d.report(t.id(req), body.month, { force: body.force, email: body.email });
    }, 201),
  );
  api.get(
    '/links/:id/reports',
    t.read,
    t.h(async (req) => {
      const page = parseBody(pageSchema, req.query);
      const rows = await q<Record<string, unknown>>(
        d.orm.em.fork(),
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
        d.orm.em.fork(),
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
          d.orm.em.fork(),
          'select * from sla_credits order by id desc limit 500',
        )
      ).map((r) => present(undefined, r)),
    ),
  );
  api.post(
    '/sla/run-monthly',
    t.write,
    t.h(async () => d.runMonthly()),
  );
}
