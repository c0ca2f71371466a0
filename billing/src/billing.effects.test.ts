// Every documented billing action, judged by what it does (rows, router secrets, Prometheus figures),
// not by its status code: first invoices, manual payments, invoice and subscription cancel/restore,
// staff tokens, the sync run, suspension_exempt, expiry of non-renewing subscriptions, usage.
// Each case makes its own customer and subscriptions, so the cases do not depend on their order.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRouterLab, type RouterLab, type SimRouter } from '@ispmon/lab';
import {
  startPostgres,
  type PostgresServer,
  type PrometheusServer,
  startPrometheusWithHistory,
} from '@ispmon/testkit';
import { createPlan, registerRouter, startHarness, type Harness } from '../test/harness.js';

const DAY = 86_400_000;
const USAGE_FROM = Date.parse('2026-05-01T00:00:00Z');
const USAGE_TO = USAGE_FROM + 3_600_000;

/** Per-subscriber PPP counters as the exporter writes them, every 30 s from 10 min before to 10 min after
 * the hour; `resetAt` is a reconnect (the counter starts again from the next step's bytes). */
function pppCounters(user: string, upPerStep: number, downPerStep: number, resetAt?: number): string[] {
  const lines: string[] = [];
  let k0 = 0;
  for (let s = USAGE_FROM - 600_000, k = 0; s <= USAGE_TO + 600_000; s += 30_000, k++) {
    if (resetAt !== undefined && s === resetAt) k0 = k - 1;
    const steps = k - k0;
    const labels = `{router="core-jkt-1",user="${user}"}`;
    lines.push(
      `mikrotik_ppp_session_upload_bytes_total${labels} ${steps * upPerStep} ${s / 1000}`,
      `mikrotik_ppp_session_download_bytes_total${labels} ${steps * downPerStep} ${s / 1000}`,
    );
  }
  return lines;
}

describe('billing actions and their effects', () => {
  let pg: PostgresServer;
  let prom: PrometheusServer;
  let tsdb: string;
  let lab: RouterLab;
  let router: SimRouter;
  let t: Harness;
  let routerId: number;
  let planId: number;
  let n = 0;

  beforeAll(async () => {
    tsdb = mkdtempSync(join(tmpdir(), 'ispmon-usage-tsdb-'));
    const om = join(tsdb, 'ppp.om');
    // Untyped samples: promtool reads them as they are; the exporter's names end in _total.
    writeFileSync(
      om,
      [
        ...pppCounters('usage-a', 1000, 5000, USAGE_FROM + 1_800_000),
        ...pppCounters('usage-b', 2000, 3000),
        '# EOF',
        '',
      ].join('\n'),
    );
    [pg, prom, lab] = await Promise.all([
      startPostgres(),
      startPrometheusWithHistory(om),
      startRouterLab({ routers: [{ name: 'core-jkt-1', version: '7.18.2', pppSessions: 0 }] }),
    ]);
    router = lab.routers[0] as SimRouter;
    t = await startHarness(pg, { prometheusUrl: prom.url });
    routerId = await registerRouter(t, 'core-jkt-1', router);
    planId = await createPlan(t, {
      code: 'HOME20',
      name: 'Home 20 Mbps',
      kind: 'pppoe',
      rate_limit: '20M/20M',
      price_idr: 200000,
      validity_days: 30,
      profile: 'home-20M',
      isolation: 'profile',
    });
  }, 180_000); // with promtool backfill + Prometheus start (over 60 s at load 15: prometheus.test.ts)

  afterAll(async () => {
    await t?.stop();
    await Promise.all([lab?.stop(), prom?.stop(), pg?.stop()]);
    if (tsdb) rmSync(tsdb, { recursive: true, force: true });
  });

  const db = (sql: string, params: unknown[] = []) =>
    pg.query<Record<string, unknown>>(sql, params, String(t.runtime.orm.config.get('dbName')));
  const secret = (name: string) => router.secrets().find((s) => s.name === name);
  const customer = async (extra: Record<string, unknown> = {}): Promise<number> => {
    n++;
    const c = await t.call('POST', '/api/v1/customers', {
      code: `E-${String(n).padStart(3, '0')}`,
      name: `Effect Customer ${n}`,
      ...extra,
    });
    expect(c.status).toBe(201);
    return c.body.id as number;
  };
  const subscribe = async (
    customerId: number,
    ppp: string,
    extra: Record<string, unknown> = {},
  ): Promise<{ id: number; period_end: string; [k: string]: unknown }> => {
    const s = await t.call('POST', '/api/v1/subscriptions', {
      customer_id: customerId,
      plan_id: planId,
      router_id: routerId,
      ppp_username: ppp,
      ppp_password: 'rahasia123',
      ...extra,
    });
    expect(s.status).toBe(201);
    return s.body;
  };
  const invoicesOf = async (subscriptionId: number) =>
    (await t.call('GET', `/api/v1/invoices?subscription_id=${subscriptionId}`)).body.items as Array<
      Record<string, unknown> & { id: number }
    >;
  const subscription = async (id: number) => (await t.call('GET', `/api/v1/subscriptions/${id}`)).body;
  const audit = async (entity: string, id: number) =>
    (
      (await t.call('GET', `/api/v1/audit?entity=${entity}&entity_id=${id}&limit=50`)).body.items as Array<{
        action: string;
        actor: string;
        reason: string | null;
      }>
    )
      .map((a) => `${a.action}:${a.actor}:${a.reason ?? ''}`)
      .reverse();
  const restoresTotal = async (): Promise<number> => {
    const text = await (await fetch(`${t.runtime.url}/metrics`)).text();
    return Number(/^ispmon_billing_restores_total (\d+)$/m.exec(text)?.[1]);
  };
  /** A subscription whose first invoice is overdue and that the cycle suspended. */
  const suspendedByCycle = async (ppp: string, customerExtra: Record<string, unknown> = {}) => {
    const start = new Date('2026-06-01T00:00:00Z');
    t.clock.now = start;
    const cust = await customer(customerExtra);
    const sub = await subscribe(cust, ppp);
    const [first] = await invoicesOf(sub.id);
    if (!first) throw new Error('no first invoice');
    t.clock.now = new Date(start.getTime() + 6 * DAY + 60_000); // due + 3 days of grace
    await t.call('POST', '/api/v1/billing-cycle/run', {});
    await t.runtime.syncNow();
    return { customer: cust, sub, invoice: first };
  };

  it('issues the first invoice for the first period unless first_invoice is false', async () => {
    const start = new Date('2026-05-10T03:00:00Z');
    t.clock.now = start;
    const cust = await customer();
    const withInvoice = await subscribe(cust, 'first-yes');
    const invoices = await invoicesOf(withInvoice.id);
    expect(invoices).toHaveLength(1);
    expect(invoices[0]).toMatchObject({
      customer_id: cust,
      kind: 'first',
      description: 'First period, Home 20 Mbps',
      amount_idr: 200000,
      status: 'unpaid',
      period_start: start.toISOString(),
      period_end: new Date(start.getTime() + 30 * DAY).toISOString(),
      due_at: new Date(start.getTime() + 3 * DAY).toISOString(), // first_invoice_due_days
    });
    expect(String(invoices[0]?.number)).toMatch(/^INV-2026-\d{6}$/);
    const without = await subscribe(cust, 'first-no', { first_invoice: false });
    expect(await invoicesOf(without.id)).toEqual([]);
  });

  it('records a manual payment once, extends nothing it should not, and restores the suspended subscriber', async () => {
    const { sub, invoice } = await suspendedByCycle('manual-pay');
    expect(secret('manual-pay')).toMatchObject({ profile: 'isolir' });
    const wrong = await t.call('POST', `/api/v1/invoices/${invoice.id}/payments`, {
      method: 'transfer',
      amount_idr: 199999,
    });
    expect(wrong).toMatchObject({ status: 400, body: { field: 'amount_idr' } });
    expect((await t.call('GET', `/api/v1/payments?invoice_id=${invoice.id}`)).body.total).toBe(0);

    const receivedAt = new Date(t.clock.now.getTime() - 3_600_000).toISOString();
    const paid = await t.call('POST', `/api/v1/invoices/${invoice.id}/payments`, {
      method: 'transfer',
      amount_idr: '200000',
      reference: 'BCA 0012345',
      received_at: receivedAt,
    });
    expect(paid.status).toBe(201);
    expect(paid.body).toMatchObject({
      status: 'paid',
      paid_at: receivedAt,
      payments: [
        {
          method: 'transfer',
          amount_idr: 200000,
          reference: 'BCA 0012345',
          received_at: receivedAt,
          recorded_by: 'budi.billing',
        },
      ],
    });
    expect(await subscription(sub.id)).toMatchObject({
      status: 'active',
      suspended_reason: null,
      period_end: sub.period_end, // the first invoice covered the current period: no extension
      sync_state: 'pending',
    });
    await t.runtime.syncNow();
    expect(secret('manual-pay')).toMatchObject({ profile: 'home-20M', disabled: false });
    expect(await audit('subscriptions', sub.id)).toEqual([
      'create:budi.billing:',
      `suspend:budi.billing:overdue invoice ${String(invoice.number)}`, // the staff member who ran the cycle
      `restore:budi.billing:invoice ${String(invoice.number)} paid`,
    ]);
    const again = await t.call('POST', `/api/v1/invoices/${invoice.id}/payments`, {
      method: 'cash',
      amount_idr: 200000,
    });
    expect(again.status).toBe(409);
    expect((await t.call('GET', `/api/v1/payments?invoice_id=${invoice.id}`)).body.total).toBe(1);
  });

  it('cancels an overdue invoice with its reason, restores the subscriber, and refuses to cancel a paid one', async () => {
    const { sub, invoice } = await suspendedByCycle('inv-cancel');
    const cancelled = await t.call('POST', `/api/v1/invoices/${invoice.id}/cancel`, {
      reason: 'installation postponed',
    });
    expect(cancelled.body).toMatchObject({
      status: 'cancelled',
      cancel_reason: 'installation postponed',
      cancelled_at: t.clock.now.toISOString(),
    });
    expect(await subscription(sub.id)).toMatchObject({ status: 'active', suspended_reason: null });
    await t.runtime.syncNow();
    expect(secret('inv-cancel')).toMatchObject({ profile: 'home-20M' });
    // Paying a cancelled invoice is refused; cancelling a paid invoice is refused.
    expect(
      (
        await t.call('POST', `/api/v1/invoices/${invoice.id}/payments`, {
          method: 'cash',
          amount_idr: 200000,
        })
      ).status,
    ).toBe(409);
    const cust = await customer();
    const other = await t.call('POST', '/api/v1/invoices', {
      customer_id: cust,
      description: 'Cable',
      amount_idr: 50000,
    });
    await t.call('POST', `/api/v1/invoices/${other.body.id}/payments`, { method: 'cash', amount_idr: 50000 });
    const refused = await t.call('POST', `/api/v1/invoices/${other.body.id}/cancel`, { reason: 'oops' });
    expect(refused.status).toBe(409);
    expect((await t.call('GET', `/api/v1/invoices/${other.body.id}`)).body).toMatchObject({
      status: 'paid',
      cancel_reason: null,
    });
  });

  it('restores a suspended subscription and cancels one, on the router too', async () => {
    t.clock.now = new Date('2026-07-01T00:00:00Z');
    const cust = await customer();
    const sub = await subscribe(cust, 'staff-actions', { first_invoice: false });
    await t.runtime.syncNow();
    const suspended = await t.call('POST', `/api/v1/subscriptions/${sub.id}/suspend`, {
      reason: 'abuse report',
    });
    expect(suspended.body).toMatchObject({ status: 'suspended', suspended_reason: 'abuse report' });
    await t.runtime.syncNow();
    expect(secret('staff-actions')).toMatchObject({ profile: 'isolir' });

    const restoresBefore = await restoresTotal();
    const restored = await t.call('POST', `/api/v1/subscriptions/${sub.id}/restore`, {
      reason: 'resolved with customer',
    });
    expect(restored.body).toMatchObject({ status: 'active', suspended_reason: null, sync_state: 'pending' });
    await t.runtime.syncNow();
    expect(secret('staff-actions')).toMatchObject({ profile: 'home-20M', disabled: false });
    expect(await restoresTotal()).toBe(restoresBefore + 1);

    const cancelled = await t.call('POST', `/api/v1/subscriptions/${sub.id}/cancel`, {
      reason: 'moved away',
    });
    expect(cancelled.body).toMatchObject({ status: 'cancelled', cancelled_at: t.clock.now.toISOString() });
    await t.runtime.syncNow();
    expect(secret('staff-actions')).toBeUndefined(); // the PPP secret is gone from the router
    expect(
      (await t.call('POST', `/api/v1/subscriptions/${sub.id}/restore`, { reason: 'changed mind' })).status,
    ).toBe(409);
    expect(await audit('subscriptions', sub.id)).toEqual([
      'create:budi.billing:',
      'suspend:budi.billing:abuse report',
      'restore:budi.billing:resolved with customer',
      'cancel:budi.billing:moved away',
    ]);
  });

  it('issues staff tokens that carry exactly the role asked for', async () => {
    const issued = await t.call(
      'POST',
      '/api/v1/staff/tokens',
      { username: 'rina.viewer', role: 'viewer', label: 'laptop' },
      t.tokens.admin,
    );
    expect(issued.status).toBe(201);
    expect(issued.body).toMatchObject({ username: 'rina.viewer', role: 'viewer' });
    const token = issued.body.token as string;
    expect(token).toMatch(/^isb_[A-Za-z0-9_-]{32}$/);
    expect((await t.call('GET', '/api/v1/customers', undefined, token)).status).toBe(200);
    const write = await t.call('POST', '/api/v1/customers', { code: 'X-1', name: 'X' }, token);
    expect(write).toMatchObject({
      status: 403,
      body: { error: 'role viewer may not do this; needs billing' },
    });
    const rows = await db(
      'select u.role, t.label, t.token_hash from staff_users u join api_tokens t on t.staff_user_id = u.id where u.username = $1',
      ['rina.viewer'],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ role: 'viewer', label: 'laptop' });
    expect(rows[0]?.token_hash).not.toBe(token); // stored hashed
    expect(
      (await t.call('POST', '/api/v1/staff/tokens', { username: 'eve', role: 'admin' }, t.tokens.billing))
        .status,
    ).toBe(403);
    expect(await db('select 1 from staff_users where username = $1', ['eve'])).toEqual([]);
  });

  it('makes the router match the database on /sync/run', async () => {
    t.clock.now = new Date('2026-07-15T00:00:00Z');
    await t.runtime.syncNow(); // whatever other cases left pending
    const cust = await customer();
    const sub = await subscribe(cust, 'sync-run', { first_invoice: false });
    expect(secret('sync-run')).toBeUndefined();
    const run = await t.call('POST', '/api/v1/sync/run', {});
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ claimed: 1, synced: 1, failed: 0 });
    expect(secret('sync-run')).toMatchObject({
      profile: 'home-20M',
      password: 'rahasia123',
      comment: `ispmon:sub=${sub.id}`,
    });
    expect(await subscription(sub.id)).toMatchObject({ sync_state: 'synced' });
    expect((await t.call('POST', '/api/v1/sync/run', {})).body).toMatchObject({ claimed: 0, synced: 0 });
  });

  it('never suspends a suspension_exempt customer, though the invoice goes overdue', async () => {
    const start = new Date('2026-08-01T00:00:00Z');
    t.clock.now = start;
    const exempt = await customer({ suspension_exempt: true });
    const normal = await customer();
    const a = await subscribe(exempt, 'exempt-hospital');
    const b = await subscribe(normal, 'exempt-not');
    t.clock.now = new Date(start.getTime() + 6 * DAY + 60_000);
    const cycle = await t.call('POST', '/api/v1/billing-cycle/run', {});
    expect(cycle.body.subscriptionsSuspended.sample).toContain(String(b.id));
    expect(cycle.body.subscriptionsSuspended.sample).not.toContain(String(a.id));
    expect(await subscription(a.id)).toMatchObject({ status: 'active' });
    expect(await subscription(b.id)).toMatchObject({ status: 'suspended' });
    expect((await invoicesOf(a.id))[0]).toMatchObject({ status: 'overdue' });
    await t.runtime.syncNow();
    expect(secret('exempt-hospital')).toMatchObject({ profile: 'home-20M' });
    expect(secret('exempt-not')).toMatchObject({ profile: 'isolir' });
  });

  it('expires a non-renewing subscription at its period end and issues it no renewal', async () => {
    const start = new Date('2026-09-01T00:00:00Z');
    t.clock.now = start;
    const cust = await customer();
    const once = await subscribe(cust, 'expire-once', { auto_renew: false, first_invoice: false });
    const renewing = await subscribe(cust, 'expire-renews', { first_invoice: false });
    await t.runtime.syncNow();
    t.clock.now = new Date(start.getTime() + 23 * DAY); // renewal window opens 7 days before the end
    await t.call('POST', '/api/v1/billing-cycle/run', {});
    expect(await invoicesOf(once.id)).toEqual([]);
    expect((await invoicesOf(renewing.id)).map((i) => i.kind)).toEqual(['renewal']);
    expect(await subscription(once.id)).toMatchObject({ status: 'active' }); // not before its end

    t.clock.now = new Date(start.getTime() + 30 * DAY);
    const cycle = await t.call('POST', '/api/v1/billing-cycle/run', {});
    expect(cycle.body.subscriptionsExpired.sample).toContain(String(once.id));
    expect(await subscription(once.id)).toMatchObject({ status: 'expired' });
    expect(await subscription(renewing.id)).toMatchObject({ status: 'active' });
    await t.runtime.syncNow();
    expect(secret('expire-once')).toMatchObject({ disabled: true });
    expect(secret('expire-renews')).toMatchObject({ disabled: false });
    expect(await audit('subscriptions', once.id)).toContain(
      'expire:budi.billing:period ended without renewal',
    );
  });

  it("reports a subscription's and a customer's traffic from Prometheus, across a reconnect", async () => {
    t.clock.now = new Date(USAGE_TO + DAY);
    const cust = await customer();
    const a = await subscribe(cust, 'usage-a', { first_invoice: false });
    const b = await subscribe(cust, 'usage-b', { first_invoice: false });
    const period = `from=${new Date(USAGE_FROM).toISOString()}&to=${new Date(USAGE_TO).toISOString()}`;
    const one = await t.call(
      'GET',
      `/api/v1/subscriptions/${a.id}/usage?${period}`,
      undefined,
      t.tokens.viewer,
    );
    expect(one.body).toEqual({
      subscription_id: a.id,
      from: new Date(USAGE_FROM).toISOString(),
      to: new Date(USAGE_TO).toISOString(),
      upload_bytes: 120 * 1000,
      download_bytes: 120 * 5000,
      coverage: 1,
    });
    const all = await t.call('GET', `/api/v1/customers/${cust}/usage?${period}`, undefined, t.tokens.viewer);
    expect(all.body).toMatchObject({
      customer_id: cust,
      subscriptions: 2,
      upload_bytes: 120 * (1000 + 2000),
      download_bytes: 120 * (5000 + 3000),
      coverage: 1,
    });
    await t.call('POST', `/api/v1/subscriptions/${b.id}/cancel`, { reason: 'second line given up' });
    expect((await t.call('GET', `/api/v1/customers/${cust}/usage?${period}`)).body).toMatchObject({
      subscriptions: 1,
      upload_bytes: 120 * 1000,
    });
    // Outside the recorded hour: nothing, and coverage says so.
    const later = `from=${new Date(USAGE_TO + 2 * 3_600_000).toISOString()}&to=${new Date(USAGE_TO + 3 * 3_600_000).toISOString()}`;
    expect((await t.call('GET', `/api/v1/subscriptions/${a.id}/usage?${later}`)).body).toMatchObject({
      upload_bytes: 0,
      download_bytes: 0,
      coverage: 0,
    });
    expect((await t.call('GET', `/api/v1/subscriptions/${a.id}/usage?from=yesterday`)).body).toEqual({
      error: 'from: must be an ISO date-time',
      field: 'from',
    });
  });

  it('exposes every counter of a known label value from 0, so panels and rate() have data', async () => {
    const text = await (await fetch(`${t.runtime.url}/metrics`)).text();
    for (const outcome of ['status_code_mismatch', 'duplicate_transaction', 'invalid_signature', 'paid'])
      expect(text).toMatch(
        new RegExp(`^ispmon_billing_midtrans_notifications_total\\{outcome="${outcome}"\\} \\d+$`, 'm'),
      );
    expect(text).toMatch(/^ispmon_billing_cycle_runs_total\{outcome="failed"\} 0$/m);
    expect(text).toMatch(/^ispmon_billing_sla_reports_total\{outcome="breached"\} 0$/m);
    expect(text).toMatch(/^ispmon_billing_router_sync_failures_total\{router="core-jkt-1"\} 0$/m);
    expect(text).toMatch(/^ispmon_billing_subscriptions\{status="expired"\} \d+$/m);
  });
});
