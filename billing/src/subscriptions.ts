// Subscriptions: a customer's plan on a router as a PPP secret. Every change that the router must
// follow bumps sync_version and marks the row pending; the sync worker (sync.ts) makes the router
// match and records the version it applied, so a change made while a sync is in flight is not lost.
import { randomBytes } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { ApiError, audit, conflictFrom, exec, notFound, one, q, tx, type Em } from './db/sql.js';
import { allocateInvoiceNumbers } from './invoices.js';
import type { BillingMetrics } from './metrics.js';
import { DAY_MS, formatInvoiceNumber, invoiceSeries, type BillingPolicy } from './policy.js';
import { exactFilters, pageSchema, parseBody, present, type Page } from './resources.js';
import type { SecretBox } from './secrets.js';
import { suspendSubscriptions } from './suspension.js';
import { PENDING_SYNC } from './sync.js';

const pppName = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9@._-]+$/, 'letters, digits and @ . _ - only');
const pppPassword = z
  .string()
  .min(6, 'at least 6 characters')
  .max(64)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export const createSubscriptionSchema = z.strictObject({
  customer_id: z.number().int().positive(),
  plan_id: z.number().int().positive(),
  router_id: z.number().int().positive(),
  ppp_username: pppName,
  ppp_password: pppPassword.optional(),
  local_address: z.ipv4().nullable().optional(),
  remote_address: z.ipv4().nullable().optional(),
  period_start: z.iso.datetime({ offset: true }).optional(),
  auto_renew: z.boolean().default(true),
  first_invoice: z.boolean().default(true),
});

export const updateSubscriptionSchema = z.strictObject({
  plan_id: z.number().int().positive().optional(),
  ppp_password: pppPassword.optional(),
  local_address: z.ipv4().nullable().optional(),
  remote_address: z.ipv4().nullable().optional(),
  auto_renew: z.boolean().optional(),
});

export const reasonSchema = z.strictObject({
  reason: z.string().trim().min(1, 'a reason is required').max(1000),
});

const PUBLIC_COLUMNS = `s.id, s.customer_id, s.plan_id, s.router_id, s.ppp_username, s.local_address, s.remote_address,
  s.period_start, s.period_end, s.status, s.auto_renew, s.suspended_reason, s.sync_state, s.sync_attempts, s.sync_error,
  s.next_sync_at, s.synced_at, s.created_at, s.updated_at, s.cancelled_at, c.code as customer_code, p.code as plan_code,
  p.profile as plan_profile, r.name as router_name`;
const FROM =
  'from subscriptions s join customers c on c.id = s.customer_id join plans p on p.id = s.plan_id join routers r on r.id = s.router_id';

export class SubscriptionService {
  constructor(
    private readonly orm: MikroORM,
    private readonly box: SecretBox,
    private readonly policy: BillingPolicy,
    private readonly metrics: BillingMetrics,
    private readonly onChange: () => void,
  ) {}

  async list(query: Record<string, unknown>): Promise<Page<Record<string, unknown>>> {
    const page = parseBody(pageSchema, query);
    const { where, params } = exactFilters(
      query,
      ['status', 'customer_id', 'plan_id', 'router_id', 'sync_state', 'ppp_username'],
      's.',
    );
    if (page.q) {
      where.push('(s.ppp_username ilike ? or c.name ilike ? or c.code ilike ?)');
      const like = `%${page.q.replace(/[%_\\]/g, '\\$&')}%`;
      params.push(like, like, like);
    }
    const clause = where.length ? `where ${where.join(' and ')}` : '';
    const em = this.orm.em.fork();
    const rows = await q<Record<string, unknown>>(
      em,
      `select ${PUBLIC_COLUMNS} ${FROM} ${clause} order by s.id limit ? offset ?`,
      [...params, page.limit, page.offset],
    );
    const total = await one<{ n: string }>(em, `select count(*) as n ${FROM} ${clause}`, params);
    return {
      items: rows.map((r) => present(undefined, r)),
      total: Number(total?.n ?? 0),
      limit: page.limit,
      offset: page.offset,
    };
  }

  async get(id: string, em = this.orm.em.fork()): Promise<Record<string, unknown>> {
    if (!/^\d{1,18}$/.test(id)) throw new ApiError(400, 'id: must be a positive integer', 'id');
    const row = await one<Record<string, unknown>>(em, `select ${PUBLIC_COLUMNS} ${FROM} where s.id = ?`, [
      id,
    ]);
    if (!row) throw notFound('subscription', id);
    return present(undefined, row);
  }

  async create(
    body: unknown,
    actor: string,
    now: Date,
  ): Promise<Record<string, unknown> & { ppp_password?: string }> {
    const input = parseBody(createSubscriptionSchema, body);
    const password = input.ppp_password ?? randomBytes(9).toString('base64url');
    const id = await this.run(async (em) => {
      const plan = await one<{
        id: string;
        price_idr: string;
        validity_days: number;
        name: string;
        active: boolean;
      }>(em, 'select id, price_idr, validity_days, name, active from plans where id = ?', [input.plan_id]);
      if (!plan) throw new ApiError(400, `plan_id: plan ${input.plan_id} does not exist`, 'plan_id');
      if (!plan.active)
        throw new ApiError(400, `plan_id: plan ${input.plan_id} is not offered any more`, 'plan_id');
      if (!(await one(em, 'select 1 from customers where id = ?', [input.customer_id])))
        throw new ApiError(400, `customer_id: customer ${input.customer_id} does not exist`, 'customer_id');
      if (!(await one(em, 'select 1 from routers where id = ?', [input.router_id])))
        throw new ApiError(400, `router_id: router ${input.router_id} does not exist`, 'router_id');
      const start = input.period_start ? new Date(input.period_start) : now;
      const end = new Date(start.getTime() + plan.validity_days * DAY_MS);
      const row = await one<{ id: string }>(
        em,
        `insert into subscriptions (customer_id, plan_id, router_id, ppp_username, ppp_password_enc, local_address, remote_address,
           period_start, period_end, status, auto_renew, sync_state, kick_pending, next_sync_at, created_at, updated_at)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, 'pending', false, ?, ?, ?) returning id`,
        [
          input.customer_id,
          input.plan_id,
          input.router_id,
          input.ppp_username,
          this.box.seal(password),
          input.local_address ?? null,
          input.remote_address ?? null,
          start,
          end,
          input.auto_renew,
          now,
          now,
          now,
        ],
      );
      if (!row) throw new Error('insert returned nothing');
      await audit(em, now, {
        actor,
        entity: 'subscriptions',
        entityId: row.id,
        action: 'create',
        toState: 'active',
        detail: { plan_id: input.plan_id, router_id: input.router_id, ppp_username: input.ppp_username },
      });
      if (input.first_invoice) {
        const series = invoiceSeries(this.policy, now);
        const n = await allocateInvoiceNumbers(em, series, 1);
        const number = formatInvoiceNumber(series, n);
        const inv = await one<{ id: string }>(
          em,
          `insert into invoices (number, customer_id, subscription_id, kind, description, amount_idr, period_start, period_end, issued_at, due_at, status, created_by)
           values (?, ?, ?, 'first', ?, ?, ?, ?, ?, ?, 'unpaid', ?) returning id`,
          [
            number,
            input.customer_id,
            row.id,
            `First period, ${plan.name}`,
            plan.price_idr,
            start,
            end,
            now,
            new Date(start.getTime() + this.policy.first_invoice_due_days * DAY_MS),
            actor,
          ],
        );
        await audit(em, now, {
          actor,
          entity: 'invoices',
          entityId: inv?.id ?? '',
          action: 'issue',
          toState: 'unpaid',
          reason: 'first',
          detail: { number, subscription_id: row.id, amount_idr: plan.price_idr },
        });
      }
      return row.id;
    });
    this.onChange();
    return { ...(await this.get(id)), ...(input.ppp_password ? {} : { ppp_password: password }) };
  }

  async update(id: string, body: unknown, actor: string, now: Date): Promise<Record<string, unknown>> {
    const input = parseBody(updateSubscriptionSchema, body);
    if (Object.keys(input).length === 0) throw new ApiError(400, '(body): nothing to change', '(body)');
    await this.run(async (em) => {
      const sub = await one<{ plan_id: string; status: string }>(
        em,
        'select plan_id, status from subscriptions where id = ? for update',
        [id],
      );
      if (!sub) throw notFound('subscription', id);
      if (sub.status === 'cancelled') throw new ApiError(409, `subscription ${id} is cancelled`);
      const sets: string[] = [];
      const params: unknown[] = [];
      let kick = false;
      if (input.plan_id !== undefined && String(input.plan_id) !== sub.plan_id) {
        const plan = await one<{ active: boolean }>(em, 'select active from plans where id = ?', [
          input.plan_id,
        ]);
        if (!plan) throw new ApiError(400, `plan_id: plan ${input.plan_id} does not exist`, 'plan_id');
        sets.push('plan_id = ?');
        params.push(input.plan_id);
        kick = true;
      }
      if (input.ppp_password !== undefined) {
        sets.push('ppp_password_enc = ?');
        params.push(this.box.seal(input.ppp_password));
        kick = true;
      }
      for (const k of ['local_address', 'remote_address', 'auto_renew'] as const) {
        if (input[k] !== undefined) {
          sets.push(`${k} = ?`);
          params.push(input[k]);
        }
      }
      if (sets.length === 0) return;
      await exec(
        em,
        `update subscriptions set ${sets.join(', ')}, ${PENDING_SYNC}, kick_pending = kick_pending or ?, next_sync_at = ?, updated_at = ? where id = ?`,
        [...params, kick, now, now, id],
      );
      await audit(em, now, {
        actor,
        entity: 'subscriptions',
        entityId: id,
        action:
          input.plan_id !== undefined && String(input.plan_id) !== sub.plan_id ? 'change_plan' : 'update',
        detail: {
          ...input,
          ...(input.ppp_password ? { ppp_password: '(changed)' } : {}),
          ...(input.plan_id !== undefined ? { from_plan_id: Number(sub.plan_id) } : {}),
        },
      });
    });
    this.onChange();
    return this.get(id);
  }

  /** Staff suspension with a reason: the same transition the billing cycle applies (suspension.ts). */
  async suspend(id: string, body: unknown, actor: string, now: Date): Promise<Record<string, unknown>> {
    const { reason } = parseBody(reasonSchema, body);
    const changed = await this.run(async (em) => {
      if (!(await this.mayMove(em, id, ['active'], 'suspended', 'suspend'))) return false;
      const done = await suspendSubscriptions(em, { kind: 'one', subscriptionId: id, reason }, actor, now);
      return done.count === 1;
    });
    if (changed) {
      this.metrics.suspensions.inc();
      this.onChange();
    }
    return this.get(id);
  }

  async restore(id: string, body: unknown, actor: string, now: Date): Promise<Record<string, unknown>> {
    const { reason } = parseBody(reasonSchema, body);
    const changed = await this.transition(
      id,
      ['suspended', 'expired'],
      'active',
      'restore',
      reason,
      actor,
      now,
    );
    if (changed) this.metrics.restores.inc();
    return this.get(id);
  }

  async cancel(id: string, body: unknown, actor: string, now: Date): Promise<Record<string, unknown>> {
    const { reason } = parseBody(reasonSchema, body);
    await this.transition(id, ['active', 'suspended', 'expired'], 'cancelled', 'cancel', reason, actor, now);
    return this.get(id);
  }

  private async transition(
    id: string,
    from: string[],
    to: 'active' | 'cancelled',
    action: string,
    reason: string,
    actor: string,
    now: Date,
  ): Promise<boolean> {
    const changed = await this.run(async (em) => {
      const status = await this.mayMove(em, id, from, to, action);
      if (!status) return false;
      await exec(
        em,
        `update subscriptions set status = ?, suspended_reason = ?, ${PENDING_SYNC}, kick_pending = true, next_sync_at = ?, updated_at = ?,
           cancelled_at = case when ? = 'cancelled' then ? else cancelled_at end where id = ?`,
        [to, null, now, now, to, now, id],
      );
      await audit(em, now, {
        actor,
        entity: 'subscriptions',
        entityId: id,
        action,
        fromState: status,
        toState: to,
        reason,
      });
      return true;
    });
    if (changed) this.onChange();
    return changed;
  }

  /** Locks the subscription; its current status when it may move to `to`, undefined when it already is
   * there (asking twice is not an error); 404 and 409 otherwise. */
  private async mayMove(
    em: Em,
    id: string,
    from: string[],
    to: string,
    action: string,
  ): Promise<string | undefined> {
    const sub = await one<{ status: string }>(
      em,
      'select status from subscriptions where id = ? for update',
      [id],
    );
    if (!sub) throw notFound('subscription', id);
    if (sub.status === to) return undefined;
    if (!from.includes(sub.status))
      throw new ApiError(409, `subscription ${id} is ${sub.status}; cannot ${action} it`);
    return sub.status;
  }

  private async run<T>(fn: (em: Em) => Promise<T>): Promise<T> {
    try {
      return await tx(this.orm, fn);
    } catch (err) {
      throw conflictFrom(err) ?? err;
    }
  }
}
