// SLA reports as a billing feature, composed from its rooms: maintenance windows (maintenance.ts), monthly
// reports per client link computed from Prometheus, rendered to PDF, stored, credited and e-mailed
// (produce.ts, mail.ts), the routes (routes.ts) and the monthly run on billing's JobRunner (monthly.ts).
import type express from 'express';
import type { MikroORM } from '@mikro-orm/postgresql';
import { JobHeldElsewhereError, type JobRunner } from '@ispmon/service-kit';
import type { Logger } from 'pino';
import type { ApiExtension, MountTools } from '../app.js';
import { ApiError } from '../db/sql.js';
import type { BillingMetrics } from '../metrics.js';
import { SmtpReportMailer } from './mail.js';
import { MONTHLY_JOB, monthlyJob, type MonthlyRun } from './monthly.js';
import { produce, type ProduceDeps, type ReportSummary, type SeriesSource } from './produce.js';
import { PdfRenderer } from './report/pdf.js';
import type { ProviderBranding } from './report/render.js';
import { mountSlaRoutes } from './routes.js';

export { maintenanceSchema } from './maintenance.js';
export { reportSchema } from './routes.js';
export type { ReportSummary } from './produce.js';

export interface SlaOptions {
  orm: MikroORM;
  logger: Logger;
  metrics: BillingMetrics;
  clock: () => Date;
  /** Billing's job runner: the monthly run is registered on it as `sla_monthly`. */
  jobs: JobRunner;
  source: SeriesSource | undefined;
  provider: ProviderBranding;
  smtpUrl?: string;
  mailFrom?: string;
  chromiumPath?: string;
  renderConcurrency?: number;
  /** Reports the monthly job prepares at once (default 25): the renderer prints those waiting together
   * in one Chromium document, ~4× less CPU per report than one at a time. */
  monthlyParallel?: number;
  /** Period of the monthly job's check in ms (default hourly; 0 = run only on demand, as the tests do). */
  monthlyCheckMs?: number;
}

export class SlaService implements ApiExtension {
  private renderer: Promise<PdfRenderer> | undefined;
  private readonly inFlight = new Map<string, Promise<ReportSummary>>();
  private readonly produceDeps: ProduceDeps;

  constructor(private readonly o: SlaOptions) {
    this.produceDeps = {
      ...o,
      pdf: () => this.pdf(),
      mailer: o.smtpUrl ? new SmtpReportMailer(o.smtpUrl, o.provider, o.mailFrom) : undefined,
    };
    o.jobs.add(
      monthlyJob(
        {
          orm: o.orm,
          logger: o.logger,
          parallel: o.monthlyParallel ?? 25,
          report: (linkId, month) => this.report(linkId, month),
        },
        o.monthlyCheckMs ?? 3_600_000,
      ),
    );
  }

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

  /** One link's report for a month; a request for one already being produced joins it. */
  report(linkId: string, month: string, { force = false, email = true } = {}): Promise<ReportSummary> {
    const key = `${linkId}|${month}`;
    const running = this.inFlight.get(key);
    if (running) return running;
    const p = produce(this.produceDeps, { linkId, month, force, email }).finally(() =>
      this.inFlight.delete(key),
    );
    this.inFlight.set(key, p);
    return p;
  }

  /** The monthly run now (after a round in progress, if any); 409 when another replica holds it. */
  runMonthly(): Promise<MonthlyRun> {
    return this.o.jobs.runNow<MonthlyRun>(MONTHLY_JOB).catch((err: unknown) => {
      if (err instanceof JobHeldElsewhereError)
        throw new ApiError(409, 'the monthly SLA run is held by another billing replica; it runs there');
      throw err;
    });
  }

  mount(api: express.Router, t: MountTools): void {
    mountSlaRoutes(api, t, {
      orm: this.o.orm,
      report: (linkId, month, o) => this.report(linkId, month, o),
      runMonthly: () => this.runMonthly(),
    });
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.inFlight.values());
    const r = await this.renderer?.catch(() => undefined);
    await r?.close();
  }
}
