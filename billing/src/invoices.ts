// Invoices and payments: gap-free numbering, manual invoices, cancellation, and applying a payment
// (cash, transfer or Midtrans) exactly once, which extends the period and restores a suspended
// subscription when nothing else is overdue.
import type { MikroORM } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { ApiError, audit, exec, notFound, one, q, tx, type Em } from './db/sql.js';
import type { BillingMetrics } from './metrics.js';
import { formatInvoiceNumber, invoiceSeries, type BillingPolicy } from './policy.js';
import { exactFilters, moneyIdr, pageSchema, parseBody, present, type Page } from './resources.js';

export interface InvoiceRow {
  id: string;
  number: string;
  customer_id: string;
  subscription_id: string | null;
  kind: string;
  amount_idr: string;
  credit_idr: string;
  period_start: Date | null;
  period_end: Date | null;
  due_at: Date;
  status: 'unpaid' | 'paid' | 'overdue' | 'cancelled';
}

/** Takes `count` numbers from the year's series. The counter row stays locked until the caller's
 * transaction ends, so concurrent issuers queue and a rollback gives the numbers back: gap-free. */
export async function allocateInvoiceNumbers(em: Em, series: string, count: number): Promise<number> {
  await exec(
    em,
    'insert into invoice_counters (series, last_number) values (?, 0) on conflict (series) do nothing',
    [series],
  );
  const row = await one<{ last_number: number }>(
    em,
    'update invoice_counters set last_number = last_number + ? where series = ? returning last_number',
    [count, series],
  );
  if (!row) throw new Error(`invoice series ${series} missing`);
  return row.last_number - count + 1;
}

export const manualInvoiceSchema = z.strictObject({
  customer_id: z.number().int().positive(),
  subscription_id: z.number().int().positive().optional(),
  description: z.string().trim().min(1).max(500),
  amount_idr: moneyIdr.refine((v) => v > 0n, 'must be more than zero'),
  due_at: z.iso.datetime({ offset: true }).optional(),
});

export const cancelSchema = z.strictObject({
  reason: z.string().trim().min(1, 'a reason is required').max(1000),
});

export const manualPaymentSchema = z.strictObject({
  method: z.enum(['cash', 'transfer']),
  amount_idr: moneyIdr,
  reference: z.string().trim().max(200).optional(),
  received_at: z.iso.datetime({ offset: true }).optional(),
});

export interface PaymentInput {
  method: 'cash' | 'transfer' | 'midtrans';
  amountIdr: bigint;
  reference?: string | null;
  providerOrderId?: string | null;
  providerTransactionId?: string | null;
  paymentType?: string | null;
  raw?: unknown;
  /** What Midtrans's status API said when the payment was booked. */
  providerStatus?: unknown;
  receivedAt: Date;
  actor: string;
}

export type PaymentOutcome =
  | { applied: true; invoiceId: string; restored: boolean; periodEnd: Date | null }
  | {
      applied: false;
      reason: 'already_paid' | 'cancelled' | 'amount_mismatch' | 'duplicate_transaction';
      invoiceId: string;
    };

export class InvoiceService {
  constructor(
    private readonly orm: MikroORM,
    private readonly policy: BillingPolicy,
    private readonly metrics: BillingMetrics,
    private readonly onSubscriptionChange: () => void,
  ) {}

  async list(query: Record<string, unknown>): Promise<Page<Record<string, unknown>>> {
    const page = parseBody(pageSchema, query);
    const { where, params } = exactFilters(query, [
      'status',
      'customer_id',
      'subscription_id',
      'kind',
      'number',
    ]);
    for (const [param, cond] of [
      ['due_before', 'due_at < ?'],
      ['due_after', 'due_at >= ?'],
    ] as const) {
      const v = query[param];
      if (typeof v === 'string') {
        if (Number.isNaN(Date.parse(v))) throw new ApiError(400, `${param}: must be an ISO date-time`, param);
        where.push(cond);
        params.push(new Date(v));
      }
    }
    const clause = where.length ? `where ${where.join(' and ')}` : '';
    const em = this.orm.em.fork();
    const rows = await q<Record<string, unknown>>(
      em,
      `select * from invoices ${clause} order by id desc limit ? offset ?`,
      [...params, page.limit, page.offset],
    );
    const total = await one<{ n: string }>(em, `select count(*) as n from invoices ${clause}`, params);
    return {
      items: rows.map((r) => present(undefined, r)),
      total: Number(total?.n ?? 0),
      limit: page.limit,
      offset: page.offset,
    };
  }

  async get(id: string): Promise<Record<string, unknown>> {
    if (!/^\d{1,18}$/.test(id)) throw new ApiError(400, 'id: must be a positive integer', 'id');
    const em = this.orm.em.fork();
    const row = await one<Record<string, unknown>>(em, 'select * from invoices where id = ?', [id]);
    if (!row) throw notFound('invoice', id);
    const payments = await q<Record<string, unknown>>(
      em,
      'select id, method, amount_idr, reference, provider_order_id, provider_transaction_id, payment_type, provider_status, received_at, recorded_by from payments where invoice_id = ? order by id',
      [id],
    );
    const orders = await q<Record<string, unknown>>(
      em,
      'select order_id, gross_amount_idr, status, redirect_url, created_at, expires_at from payment_orders where invoice_id = ? order by created_at',
      [id],
    );
    return {
      ...present(undefined, row),
      payments: payments.map((p) => present(undefined, p)),
      payment_orders: orders.map((o) => present(undefined, o)),
    };
  }

  async createManual(body: unknown, actor: string, now: Date): Promise<Record<string, unknown>> {
    const input = parseBody(manualInvoiceSchema, body);
    const id = await tx(this.orm, async (em) => {
      const customer = await one<{ id: string }>(em, 'select id from customers where id = ?', [
        input.customer_id,
      ]);
      if (!customer)
        throw new ApiError(400, `customer_id: customer ${input.customer_id} does not exist`, 'customer_id');
      if (input.subscription_id !== undefined) {
        const sub = await one<{ customer_id: string }>(
          em,
          'select customer_id from subscriptions where id = ?',
          [input.subscription_id],
        );
        if (!sub || sub.customer_id !== String(input.customer_id))
          throw new ApiError(
            400,
            `subscription_id: subscription ${input.subscription_id} does not belong to customer ${input.customer_id}`,
            'subscription_id',
          );
      }
      const series = invoiceSeries(this.policy, now);
      const n = await allocateInvoiceNumbers(em, series, 1);
      const dueAt = input.due_at
        ? new Date(input.due_at)
        : new Date(now.getTime() + this.policy.first_invoice_due_days * 86_400_000);
      const row = await one<{ id: string; number: string }>(
        em,
        `insert into invoices (number, customer_id, subscription_id, kind, description, amount_idr, issued_at, due_at, status, created_by)
         values (?, ?, ?, 'manual', ?, ?, ?, ?, 'unpaid', ?) returning id, number`,
        [
          formatInvoiceNumber(series, n),
          input.customer_id,
          input.subscription_id ?? null,
          input.description,
          input.amount_idr.toString(),
          now,
          dueAt,
          actor,
        ],
      );
      if (!row) throw new Error('insert returned nothing');
      await audit(em, now, {
        actor,
        entity: 'invoices',
        entityId: row.id,
        action: 'issue',
        toState: 'unpaid',
        reason: 'manual',
        detail: { number: row.number, amount_idr: input.amount_idr.toString() },
      });
      return row.id;
    });
    return this.get(id);
  }

  async cancel(id: string, body: unknown, actor: string, now: Date): Promise<Record<string, unknown>> {
    const { reason } = parseBody(cancelSchema, body);
    await tx(this.orm, async (em) => {
      const inv = await one<InvoiceRow>(em, 'select * from invoices where id = ? for update', [id]);
      if (!inv) throw notFound('invoice', id);
      if (inv.status === 'paid')
        throw new ApiError(409, `invoice ${inv.number} is paid; refund it instead of cancelling`);
      if (inv.status === 'cancelled') return;
      await exec(
        em,
        "update invoices set status = 'cancelled', cancelled_at = ?, cancel_reason = ? where id = ?",
        [now, reason, id],
      );
      await audit(em, now, {
        actor,
        entity: 'invoices',
        entityId: id,
        action: 'cancel',
        fromState: inv.status,
        toState: 'cancelled',
        reason,
      });
      await this.restoreIfClear(em, inv.subscription_id, now, actor, `invoice ${inv.number} cancelled`);
    });
    return this.get(id);
  }

  async payManually(id: string, body: unknown, actor: string, now: Date): Promise<Record<string, unknown>> {
    const input = parseBody(manualPaymentSchema, body);
    const outcome = await this.applyPayment(id, {
      method: input.method,
      amountIdr: input.amount_idr,
      reference: input.reference ?? null,
      receivedAt: input.received_at ? new Date(input.received_at) : now,
      actor,
    });
    if (!outcome.applied) {
      if (outcome.reason === 'amount_mismatch')
        throw new ApiError(400, 'amount_idr: must equal the amount due on the invoice', 'amount_idr');
      throw new ApiError(
        409,
        `invoice ${id} is ${outcome.reason === 'cancelled' ? 'cancelled' : 'already paid'}`,
      );
    }
    return this.get(id);
  }

  /** Applies one payment to an invoice under a row lock: at most one payment ever pays an invoice. */
  async applyPayment(invoiceId: string, p: PaymentInput, em?: Em): Promise<PaymentOutcome> {
    const run = async (em: Em): Promise<PaymentOutcome> => {
      const inv = await one<InvoiceRow>(em, 'select * from invoices where id = ? for update', [invoiceId]);
      if (!inv) throw notFound('invoice', invoiceId);
      if (p.providerTransactionId) {
        const seen = await one<{ id: string }>(
          em,
          'select id from payments where provider_transaction_id = ?',
          [p.providerTransactionId],
        );
        if (seen) return { applied: false, reason: 'duplicate_transaction', invoiceId };
      }
      if (inv.status === 'paid') return { applied: false, reason: 'already_paid', invoiceId };
      if (inv.status === 'cancelled') return { applied: false, reason: 'cancelled', invoiceId };
      const due = BigInt(inv.amount_idr) - BigInt(inv.credit_idr);
      if (p.amountIdr !== due) return { applied: false, reason: 'amount_mismatch', invoiceId };
      await exec(
        em,
        `insert into payments (invoice_id, method, amount_idr, reference, provider_order_id, provider_transaction_id, payment_type, raw, provider_status, received_at, recorded_by)
         values (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?)`,
        [
          invoiceId,
          p.method,
          p.amountIdr.toString(),
          p.reference ?? null,
          p.providerOrderId ?? null,
          p.providerTransactionId ?? null,
          p.paymentType ?? null,
          p.raw === undefined ? null : JSON.stringify(p.raw),
          p.providerStatus === undefined ? null : JSON.stringify(p.providerStatus),
          p.receivedAt,
          p.actor,
        ],
      );
      await exec(em, "update invoices set status = 'paid', paid_at = ? where id = ?", [
        p.receivedAt,
        invoiceId,
      ]);
      await audit(em, p.receivedAt, {
        actor: p.actor,
        entity: 'invoices',
        entityId: invoiceId,
        action: 'pay',
        fromState: inv.status,
        toState: 'paid',
        reason: p.method,
        detail: {
          number: inv.number,
          amount_idr: p.amountIdr.toString(),
          reference: p.reference ?? p.providerOrderId ?? null,
        },
      });
      let periodEnd: Date | null = null;
      let restored = false;
      if (inv.subscription_id) {
        const sub = await one<{ period_end: Date | string; status: string }>(
          em,
          'select period_end, status from subscriptions where id = ? for update',
          [inv.subscription_id],
        );
        const current = sub ? new Date(sub.period_end) : null;
        const covered = inv.period_end ? new Date(inv.period_end) : null;
        if (current && covered && covered > current) {
          await exec(em, 'update subscriptions set period_end = ?, updated_at = ? where id = ?', [
            covered,
            p.receivedAt,
            inv.subscription_id,
          ]);
          await audit(em, p.receivedAt, {
            actor: p.actor,
            entity: 'subscriptions',
            entityId: inv.subscription_id,
            action: 'extend',
            reason: `invoice ${inv.number} paid`,
            detail: { from: current.toISOString(), to: covered.toISOString() },
          });
        }
        periodEnd = current && covered && covered > current ? covered : current;
        restored = await this.restoreIfClear(
          em,
          inv.subscription_id,
          p.receivedAt,
          p.actor,
          `invoice ${inv.number} paid`,
        );
      }
      return { applied: true, invoiceId, restored, periodEnd };
    };
    const outcome = em ? await run(em) : await tx(this.orm, run);
    if (outcome.applied && outcome.restored) {
      this.metrics.restores.inc();
      this.onSubscriptionChange();
    }
    return outcome;
  }

  /** A suspended (or expired) subscription with nothing overdue and a paid-up period comes back. */
  private async restoreIfClear(
    em: Em,
    subscriptionId: string | null,
    now: Date,
    actor: string,
    reason: string,
  ): Promise<boolean> {
    if (!subscriptionId) return false;
    const sub = await one<{ status: string; period_end: Date | string }>(
      em,
      'select status, period_end from subscriptions where id = ? for update',
      [subscriptionId],
    );
    if (!sub || (sub.status !== 'suspended' && sub.status !== 'expired')) return false;
    if (sub.status === 'expired' && new Date(sub.period_end) <= now) return false;
    const overdue = await one<{ n: string }>(
      em,
      "select count(*) as n from invoices where subscription_id = ? and status = 'overdue'",
      [subscriptionId],
    );
    if (Number(overdue?.n ?? 0) > 0) return false;
    await exec(
      em,
      `update subscriptions set status = 'active', suspended_reason = null, sync_state = 'pending', sync_version = sync_version + 1,
         kick_pending = true, sync_attempts = 0, next_sync_at = ?, updated_at = ? where id = ?`,
      [now, now, subscriptionId],
    );
    await audit(em, now, {
      actor,
      entity: 'subscriptions',
      entityId: subscriptionId,
      action: 'restore',
      fromState: sub.status,
      toState: 'active',
      reason,
    });
    return true;
  }
}
