// The billing cycle, set-based so 100,000 subscriptions take seconds: renewal invoices, overdue
// marking, suspension of overdue subscriptions, expiry of subscriptions that do not renew. One
// transaction under an advisory lock: two runs at once (two replicas, a scheduled run and a staff
// click) queue, and the second finds nothing left to do. A dry run does the same work and rolls back,
// so what it shows is exactly what would happen.
import type { MikroORM } from '@mikro-orm/postgresql';
import { exec, one, q, tx, type Em } from './db/sql.js';
import type { BillingMetrics } from './metrics.js';
import { invoiceSeries, type BillingPolicy } from './policy.js';
import { suspendSubscriptions, type Suspended } from './suspension.js';
import { PENDING_SYNC } from './sync.js';

export interface CycleStep {
  count: number;
  /** Up to 100 examples (invoice numbers or subscription ids). */
  sample: string[];
}

export interface CycleReport {
  at: string;
  dryRun: boolean;
  invoicesIssued: CycleStep & { amountIdr: string };
  invoicesOverdue: CycleStep;
  subscriptionsSuspended: CycleStep;
  subscriptionsExpired: CycleStep;
  /** SLA credits of breached months deducted from the customer's next open invoice. */
  slaCreditsApplied: CycleStep;
  durationMs: number;
}

class DryRunRollback extends Error {
  constructor(readonly report: CycleReport) {
    super('dry run');
  }
}

const CYCLE_LOCK = 727_001; // pg advisory lock key of the billing cycle

export class BillingCycle {
  constructor(
    private readonly orm: MikroORM,
    private readonly policy: BillingPolicy,
    private readonly metrics: BillingMetrics,
    private readonly onSubscriptionChange: () => void,
  ) {}

  async run(now: Date, { dryRun = false, actor = 'billing-cycle' } = {}): Promise<CycleReport> {
    const started = performance.now();
    try {
      const report = await tx(this.orm, async (em) => {
        await q(em, 'select pg_advisory_xact_lock(?)', [CYCLE_LOCK]);
        const report: CycleReport = {
          at: now.toISOString(),
          dryRun,
          invoicesIssued: await this.issueRenewals(em, now, actor),
          invoicesOverdue: await this.markOverdue(em, now, actor),
          subscriptionsSuspended: this.policy.suspend_overdue
            ? await this.suspendOverdue(em, now, actor)
            : { count: 0, sample: [] },
          subscriptionsExpired: await this.expire(em, now, actor),
          slaCreditsApplied: await this.applySlaCredits(em, now, actor),
          durationMs: 0,
        };
        report.durationMs = Math.round(performance.now() - started);
        if (dryRun) throw new DryRunRollback(report);
        return report;
      });
      this.metrics.suspensions.inc(report.subscriptionsSuspended.count);
      if (report.subscriptionsSuspended.count + report.subscriptionsExpired.count > 0)
        this.onSubscriptionChange();
      return report;
    } catch (err) {
      if (err instanceof DryRunRollback) return err.report;
      throw err;
    }
  }

  private async issueRenewals(em: Em, now: Date, actor: string): Promise<CycleStep & { amountIdr: string }> {
    const series = invoiceSeries(this.policy, now);
    await exec(
      em,
      'insert into invoice_counters (series, last_number) values (?, 0) on conflict (series) do nothing',
      [series],
    );
    // Numbers past 999,999 keep all their digits (lpad alone would cut them to six), as invoiceNumber does.
    // The counter row stays locked to the end of the transaction: numbers stay gap-free even while
    // staff create invoices at the same time.
    const counter = await one<{ last_number: number }>(
      em,
      'select last_number from invoice_counters where series = ? for update',
      [series],
    );
    const base = counter?.last_number ?? 0;
    const rows = await q<{ n: string; amount: string | null; sample: string[] | null }>(
      em,
      `with cand as (
         select s.id, s.customer_id, s.period_end, p.price_idr, p.validity_days, p.name as plan_name
           from subscriptions s join plans p on p.id = s.plan_id
          where s.status = 'active' and s.auto_renew
            and s.period_end <= ?::timestamptz + make_interval(days => ?)
            and not exists (select 1 from invoices i where i.subscription_id = s.id and i.period_start = s.period_end
                              and i.status <> 'cancelled' and i.kind <> 'manual')
       ), numbered as (
         select cand.*, row_number() over (order by id) as rn from cand
       ), ins as (
         insert into invoices (number, customer_id, subscription_id, kind, description, amount_idr, period_start, period_end,
                               issued_at, due_at, status, created_by)
         select ? || '-' || lpad((? + rn)::text, greatest(6, length((? + rn)::text)), '0'), customer_id, id, 'renewal', 'Renewal, ' || plan_name, price_idr,
                period_end, period_end + make_interval(days => validity_days), ?, period_end, 'unpaid', ?
           from numbered
         returning id, number, subscription_id, amount_idr
       ), aud as (
         insert into audit_log (at, actor, entity, entity_id, action, to_state, reason, detail)
         select ?, ?, 'invoices', id::text, 'issue', 'unpaid', 'renewal',
                jsonb_build_object('number', number, 'subscription_id', subscription_id, 'amount_idr', amount_idr::text)
           from ins
       )
       select count(*) as n, sum(amount_idr)::text as amount, (array_agg(number order by number))[1:100] as sample from ins`,
      [now, this.policy.renew_days_before, series, base, base, now, actor, now, actor],
    );
    const n = Number(rows[0]?.n ?? 0);
    if (n > 0)
      await exec(em, 'update invoice_counters set last_number = last_number + ? where series = ?', [
        n,
        series,
      ]);
    return { count: n, sample: rows[0]?.sample ?? [], amountIdr: rows[0]?.amount ?? '0' };
  }

  private async markOverdue(em: Em, now: Date, actor: string): Promise<CycleStep> {
    const rows = await q<{ n: string; sample: string[] | null }>(
      em,
      `with up as (
         update invoices set status = 'overdue'
          where status = 'unpaid' and due_at + make_interval(days => ?) <= ?
         returning id, number
       ), aud as (
         insert into audit_log (at, actor, entity, entity_id, action, from_state, to_state, reason, detail)
         select ?, ?, 'invoices', id::text, 'overdue', 'unpaid', 'overdue', 'unpaid after due date and grace', jsonb_build_object('number', number)
           from up
       )
       select count(*) as n, (array_agg(number order by number))[1:100] as sample from up`,
      [this.policy.grace_days, now, now, actor],
    );
    return { count: Number(rows[0]?.n ?? 0), sample: rows[0]?.sample ?? [] };
  }

  private suspendOverdue(em: Em, now: Date, actor: string): Promise<Suspended> {
    return suspendSubscriptions(em, { kind: 'overdue' }, actor, now);
  }

  /** A credit note on the next invoice: each unapplied credit goes to the customer's oldest open invoice
   * issued after the credit was recorded and large enough to take it (one credit per invoice per run). */
  private async applySlaCredits(em: Em, now: Date, actor: string): Promise<CycleStep> {
    const rows = await q<{ n: string; sample: string[] | null }>(
      em,
      `with pick as (
         select sc.id as credit_id, sc.amount_idr, sc.month, sc.link_id,
                (select i.id from invoices i
                  where i.customer_id = sc.customer_id and i.status in ('unpaid', 'overdue') and i.issued_at >= sc.created_at
                    and i.amount_idr - i.credit_idr >= sc.amount_idr
                  order by i.issued_at, i.id limit 1) as invoice_id
           from sla_credits sc where sc.applied_invoice_id is null and sc.amount_idr > 0
       ), one_each as (
         select distinct on (invoice_id) * from pick where invoice_id is not null order by invoice_id, credit_id
       ), up as (
         update invoices i set credit_idr = i.credit_idr + o.amount_idr from one_each o where i.id = o.invoice_id
         returning i.id, i.number, o.credit_id, o.amount_idr, o.month, o.link_id
       ), mark as (
         update sla_credits s set applied_invoice_id = up.id from up where s.id = up.credit_id
       ), aud as (
         insert into audit_log (at, actor, entity, entity_id, action, reason, detail)
         select ?, ?, 'invoices', id::text, 'sla_credit', 'SLA breached ' || month,
                jsonb_build_object('number', number, 'credit_idr', amount_idr::text, 'link_id', link_id) from up
       )
       select count(*) as n, (array_agg(number order by number))[1:100] as sample from up`,
      [now, actor],
    );
    return { count: Number(rows[0]?.n ?? 0), sample: rows[0]?.sample ?? [] };
  }

  private async expire(em: Em, now: Date, actor: string): Promise<CycleStep> {
    const rows = await q<{ n: string; sample: string[] | null }>(
      em,
      `with up as (
         update subscriptions set status = 'expired', ${PENDING_SYNC}, kick_pending = true, next_sync_at = ?, updated_at = ?
          where status = 'active' and not auto_renew and period_end <= ?
         returning id
       ), aud as (
         insert into audit_log (at, actor, entity, entity_id, action, from_state, to_state, reason, detail)
         select ?, ?, 'subscriptions', id::text, 'expire', 'active', 'expired', 'period ended without renewal', '{}'::jsonb from up
       )
       select count(*) as n, (array_agg(id::text order by id))[1:100] as sample from up`,
      [now, now, now, now, actor],
    );
    return { count: Number(rows[0]?.n ?? 0), sample: rows[0]?.sample ?? [] };
  }
}
