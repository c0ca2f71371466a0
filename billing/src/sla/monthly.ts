// The monthly run: the previous month's report for every active link that has none yet. Checked every hour
// by billing's JobRunner (on the 1st in UTC+14 … UTC-12 spans two UTC days, so each link catches up in its
// own zone); a period of 0 leaves it to POST /sla/run-monthly and the tests.
import type { MikroORM } from '@mikro-orm/postgresql';
import type { PeriodicJob } from '@ispmon/service-kit';
import type { Logger } from 'pino';
import { q } from '../db/sql.js';
import { previousMonth } from './calc.js';
import type { ReportSummary } from './produce.js';

export const MONTHLY_JOB = 'sla_monthly';

export interface MonthlyRun {
  produced: number;
  failed: number;
}

export interface MonthlyDeps {
  orm: MikroORM;
  logger: Logger;
  /** Reports prepared at once, so that the renderer's batches fill. */
  parallel: number;
  report: (linkId: string, month: string) => Promise<ReportSummary>;
}

export async function reportPreviousMonths(d: MonthlyDeps, now: Date): Promise<MonthlyRun> {
  const links = await q<{ id: string; time_zone: string }>(
    d.orm.em.fork(),
    'select id, time_zone from client_links where active order by id',
  );
  let produced = 0;
  let failed = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let l = links[next++]; l !== undefined; l = links[next++]) {
      const month = previousMonth(now, l.time_zone);
      try {
        if ((await d.report(l.id, month)).created) produced += 1;
      } catch (err) {
        failed += 1;
        d.logger.error(
          { event: 'sla_report_failed', link_id: l.id, month, error: (err as Error).message },
          'SLA report failed',
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, d.parallel) }, worker));
  return { produced, failed };
}

export function monthlyJob(d: MonthlyDeps, everyMs: number): PeriodicJob<MonthlyRun> {
  // One replica at a time: two would render the same reports side by side (and race to mail them).
  return { name: MONTHLY_JOB, everyMs, singleton: true, run: (now) => reportPreviousMonths(d, now) };
}
