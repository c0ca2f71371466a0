// Billing end to end on real PostgreSQL, the RouterOS simulator and the Midtrans fake.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRouterLab, type RouterLab, type SimRouter } from '@ispmon/lab';
import { findBinary, startPostgres, waitFor, type PostgresServer } from '@ispmon/testkit';
import { midtransSignature } from './payments/notification.js';
import {
  createPlan,
  HOME10,
  registerRouter,
  repairRouter,
  SERVER_KEY,
  startHarness,
  type Harness,
} from '../test/harness.js';

const DAY = 86_400_000;

describe('billing', () => {
  let pg: PostgresServer;
  let lab: RouterLab;
  let router: SimRouter;
  let t: Harness;
  let routerId: number;
  let planId: number;
  let customerId: number;
  const url = () => `${t.runtime.url}/payments/midtrans/notification`;
  const db = (sql: string, params: unknown[] = []) =>
    pg.query<Record<string, unknown>>(sql, params, String(t.runtime.orm.config.get('dbName')));
  /** A fresh invoice with an open Snap order, so each case starts from its own state. */
  const newOrder = async (
    amount: number,
  ): Promise<{ invoice: number; order: string; redirectUrl: string }> => {
    const inv = await t.call('POST', '/api/v1/invoices', {
      customer_id: customerId,
      description: 'Static IP',
      amount_idr: amount,
    });
    expect(inv.status).toBe(201);
    const snap = await t.call('POST', `/api/v1/invoices/${inv.body.id}/midtrans`, {});
    expect(snap.status).toBe(201);
    return {
      invoice: inv.body.id as number,
      order: snap.body.order_id as string,
      redirectUrl: snap.body.redirect_url as string,
    };
  };
  const orderRow = async (order: string) =>
    (await db('select status, provider_status from payment_orders where order_id = $1', [order]))[0];

  beforeAll(async () => {
    pg = await startPostgres();
    lab = await startRouterLab({ routers: [{ name: 'core-jkt-1', version: '7.18.2', pppSessions: 0 }] });
    router = lab.routers[0] as SimRouter;
    t = await startHarness(pg);
    routerId = await registerRouter(t, 'core-jkt-1', router);
    planId = await createPlan(t, { ...HOME10, isolation: 'profile' });
    const c = await t.call('POST', '/api/v1/customers', {
      code: 'C-001',
      name: 'Budi Santoso',
      email: 'budi@example.co.id',
      phone: '+62 812 1111 2222',
    });
    expect(c.status).toBe(201);
    customerId = c.body.id;
  }, 60_000);

  afterAll(async () => {
    await t?.stop();
    await lab?.stop();
    await pg?.stop();
  });

  const secret = (name: string) => router.secrets().find((s) => s.name === name);
  const session = (name: string) => router.activeSessions().find((a) => a.name === name);

  it('takes a subscriber from creation through overdue suspension to a Midtrans payment that restores them', async () => {
    const created = await t.call('POST', '/api/v1/subscriptions', {
      customer_id: customerId,
      plan_id: planId,
      router_id: routerId,
      ppp_username: 'budi',
      ppp_password: 'rahasia123',
      first_invoice: false,
    });
    expect(created.status).toBe(201);
    const id = created.body.id as number;
    expect(created.body.sync_state).toBe('pending');
    expect(await t.runtime.syncNow()).toEqual({ synced: 1, failed: 0 });
    expect(secret('budi')).toMatchObject({
      profile: 'home-10M',
      disabled: false,
      password: 'rahasia123',
      comment: `ispmon:sub=${id}`,
    });
    expect((await t.call('GET', `/api/v1/subscriptions/${id}`)).body.sync_state).toBe('synced');
    router.model.scheduleReconnect('budi', 0); // the CPE dials in
    await waitFor(
      'budi online on home-10M',
      async () => (session('budi')?.profile === 'home-10M' ? true : undefined),
      { timeoutMs: 30_000 }, // dial-ins happen on the lab's 1 s tick; a loaded machine runs it late
    );

    // Seven days before the period ends: a renewal invoice due at the period's end.
    const periodEnd = new Date(created.body.period_end as string);
    t.clock.now = new Date(periodEnd.getTime() - 7 * DAY);
    const first = await t.call('POST', '/api/v1/billing-cycle/run', {});
    expect(first.body.invoicesIssued.count).toBe(1);
    expect(first.body.invoicesIssued.sample).toEqual(['INV-2026-000001']);
    const again = await t.call('POST', '/api/v1/billing-cycle/run', {});
    expect(again.body.invoicesIssued.count).toBe(0); // idempotent
    const invoices = await t.call(
      'GET',
      `/api/v1/invoices?subscription_id=${id}`,
      undefined,
      t.tokens.viewer,
    );
    expect(invoices.body.items).toHaveLength(1);
    const invoice = invoices.body.items[0];
    expect(invoice).toMatchObject({
      number: 'INV-2026-000001',
      amount_idr: 150000,
      status: 'unpaid',
      kind: 'renewal',
    });
    expect(new Date(invoice.due_at).getTime()).toBe(periodEnd.getTime());

    // Due date plus three days of grace: overdue, suspended, isolated on the router, session dropped.
    t.clock.now = new Date(periodEnd.getTime() + 3 * DAY + 60_000);
    const dry = await t.call('POST', '/api/v1/billing-cycle/run', { dry_run: true });
    expect(dry.body).toMatchObject({
      dryRun: true,
      invoicesOverdue: { count: 1 },
      subscriptionsSuspended: { count: 1, sample: [String(id)] },
    });
    expect((await t.call('GET', `/api/v1/subscriptions/${id}`)).body.status).toBe('active'); // dry run changed nothing
    const cycle = await t.call('POST', '/api/v1/billing-cycle/run', {});
    expect(cycle.body).toMatchObject({ invoicesOverdue: { count: 1 }, subscriptionsSuspended: { count: 1 } });
    const suspended = await t.call('GET', `/api/v1/subscriptions/${id}`);
    expect(suspended.body).toMatchObject({
      status: 'suspended',
      suspended_reason: 'overdue invoice INV-2026-000001',
      sync_state: 'pending',
    });
    const sessionBefore = session('budi')?.id;
    await t.runtime.syncNow();
    expect(secret('budi')).toMatchObject({ profile: 'isolir', disabled: false });
    expect(router.model.profiles.find((p) => p.name === 'isolir')?.rateLimit).toBe('256k/256k');
    expect(session('budi')?.id).not.toBe(sessionBefore); // the old session was removed
    await waitFor(
      'budi online on isolir',
      async () => (session('budi')?.profile === 'isolir' ? true : undefined),
      { timeoutMs: 30_000 }, // dial-ins happen on the lab's 1 s tick; a loaded machine runs it late
    ); // redialled, isolated

    // The subscriber pays through Midtrans Snap; Midtrans notifies billing.
    const snap = await t.call('POST', `/api/v1/invoices/${invoice.id}/midtrans`, {});
    expect(snap.status).toBe(201);
    expect(snap.body.token).toMatch(/^[0-9a-f-]{36}$/);
    expect(snap.body.redirect_url).toContain(snap.body.token);
    const sent = t.midtrans.transactions().find((x) => x.order_id === snap.body.order_id);
    expect(sent?.request).toMatchObject({
      transaction_details: { gross_amount: 150000 },
      item_details: [{ price: 150000, quantity: 1 }],
      expiry: { unit: 'minute' },
    });
    const notification = t.midtrans.settle(snap.body.order_id as string);
    const delivered = await t.midtrans.notify(
      `${t.runtime.url}/payments/midtrans/notification`,
      notification,
    );
    expect(delivered).toEqual({ status: 200, body: { status: 'ok', outcome: 'paid' } });
    const paid = await t.call('GET', `/api/v1/invoices/${invoice.id}`);
    expect(paid.body).toMatchObject({
      status: 'paid',
      payments: [{ method: 'midtrans', amount_idr: 150000, provider_order_id: snap.body.order_id }],
    });
    const restored = await t.call('GET', `/api/v1/subscriptions/${id}`);
    expect(restored.body.status).toBe('active');
    expect(new Date(restored.body.period_end).getTime()).toBe(periodEnd.getTime() + 30 * DAY); // extended by the plan's validity
    const isolatedSession = session('budi')?.id;
    await t.runtime.syncNow();
    expect(secret('budi')).toMatchObject({ profile: 'home-10M', disabled: false });
    expect(session('budi')?.id).not.toBe(isolatedSession);
    await waitFor(
      'budi online on home-10M',
      async () => (session('budi')?.profile === 'home-10M' ? true : undefined),
      { timeoutMs: 30_000 }, // dial-ins happen on the lab's 1 s tick; a loaded machine runs it late
    ); // back on the plan's profile

    // The same notification again changes nothing.
    const duplicate = await t.midtrans.notify(
      `${t.runtime.url}/payments/midtrans/notification`,
      notification,
    );
    expect(duplicate).toEqual({ status: 200, body: { status: 'ok', outcome: 'duplicate' } });
    expect((await t.call('GET', `/api/v1/payments?invoice_id=${invoice.id}`)).body.total).toBe(1);

    // Every state change is in the append-only audit log, with who and why.
    const auditLog = await t.call(
      'GET',
      `/api/v1/audit?entity=subscriptions&entity_id=${id}&limit=50`,
      undefined,
      t.tokens.viewer,
    );
    expect(
      auditLog.body.items.map((a: { action: string; actor: string }) => `${a.action}:${a.actor}`).reverse(),
    ).toEqual([
      'create:budi.billing',
      'suspend:budi.billing', // the staff member who ran the cycle
      'extend:midtrans',
      'restore:midtrans',
    ]);
    await expect(
      pg.query('update audit_log set actor = $1', ['mallory'], String(t.runtime.orm.config.get('dbName'))),
    ).rejects.toThrow(/append-only/);

    // Monitoring follows: the router is in the exporter's targets and Prometheus file_sd.
    const sd = JSON.parse(readFileSync(join(t.inventoryDir, 'file_sd', 'routeros.json'), 'utf8')) as unknown;
    expect(sd).toEqual([
      { targets: ['core-jkt-1'], labels: { router: 'core-jkt-1', site: 'jkt', module: 'routeros' } },
    ]);
    const targets = readFileSync(join(t.inventoryDir, 'exporter', 'targets.yml'), 'utf8');
    expect(targets).toContain('name: core-jkt-1');
    expect(targets).not.toContain(router.password);

    // /metrics carries the billing gauges and counters.
    const metrics = await (await fetch(`${t.runtime.url}/metrics`)).text();
    expect(metrics).toMatch(/ispmon_billing_subscriptions\{status="active"\} 1/);
    expect(metrics).toMatch(/ispmon_billing_invoices\{status="paid"\} 1/);
    expect(metrics).toMatch(/ispmon_billing_suspensions_total 1/);
    expect(metrics).toMatch(/ispmon_billing_restores_total 1/);
    expect(metrics).toMatch(/ispmon_billing_midtrans_notifications_total\{outcome="paid"\} 1/);
    expect(metrics).not.toContain('rahasia123');
    expect(
      execFileSync(findBinary('promtool', 'prometheus'), ['check', 'metrics'], {
        input: metrics,
        encoding: 'utf8',
      }),
    ).toBe('');
  }, 60_000);

  it("pays through the stand-in's Snap page: its Pay button sends a signed notification", async () => {
    const { invoice, order, redirectUrl } = await newOrder(175000);
    const page = await fetch(redirectUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(order);
    expect(html).toContain('Rp 175.000');
    const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
    expect(action).toMatch(/^\/snap\/v4\/redirection\/[0-9a-f-]+\/pay$/);
    const pay = () =>
      fetch(new URL(action ?? '', redirectUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'payment_type=qris',
      });
    const paid = await pay();
    expect(paid.status).toBe(200);
    const result = await paid.text();
    expect(result).toContain('Payment successful');
    expect(result).toContain('The merchant answered the notification with HTTP 200');
    expect((await t.call('GET', `/api/v1/invoices/${invoice}`)).body).toMatchObject({
      status: 'paid',
      payments: [{ method: 'midtrans', payment_type: 'qris', provider_order_id: order }],
    });
    const log = await t.call('GET', `/api/v1/midtrans/notifications?order_id=${order}`);
    expect(log.body.items).toHaveLength(1);
    const sent = JSON.parse(log.body.items[0].raw as string) as Record<string, string>;
    expect(sent).toMatchObject({
      order_id: order,
      transaction_status: 'settlement',
      status_code: '200',
      gross_amount: '175000.00',
      payment_type: 'qris',
      currency: 'IDR',
      signature_key: midtransSignature(order, '200', '175000.00', SERVER_KEY),
    });
    expect(typeof sent.transaction_id).toBe('string');
    expect(typeof sent.settlement_time).toBe('string');
    // Paying twice is refused by the page itself.
    const again = await pay();
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('this transaction is settlement');
    expect((await fetch(`${t.midtrans.url}/snap/v4/redirection/no-such-token`)).status).toBe(404);
  });

  describe('payments that must not apply', () => {
    let invoiceId: number;
    let orderId: string;

    beforeAll(async () => {
      const inv = await t.call('POST', '/api/v1/invoices', {
        customer_id: customerId,
        description: 'Installation',
        amount_idr: 250000,
      });
      expect(inv.status).toBe(201);
      invoiceId = inv.body.id;
      orderId = (await t.call('POST', `/api/v1/invoices/${invoiceId}/midtrans`, {})).body.order_id;
    });

    it('rejects a forged notification, says why, and changes nothing', async () => {
      const forged: Record<string, unknown> = {
        ...t.midtrans.notificationFor(orderId),
        transaction_status: 'settlement',
        status_code: '200',
      };
      forged.signature_key = midtransSignature(orderId, '200', '250000.00', 'SB-Mid-server-WRONG');
      const r = await t.midtrans.notify(url(), forged);
      expect(r.status).toBe(401);
      expect((r.body as { error: string }).error).toMatch(/signature_key/);
      expect((await t.call('GET', `/api/v1/invoices/${invoiceId}`)).body.status).toBe('unpaid');
      const log = await t.call('GET', `/api/v1/midtrans/notifications?order_id=${orderId}`);
      expect(log.body.items[0]).toMatchObject({ outcome: 'invalid_signature', signature_valid: false });
      expect(log.body.items[0].raw).toContain(orderId);
    });

    it('rejects and logs a settlement whose amount is not the amount due', async () => {
      const { invoice, order } = await newOrder(80000);
      // A credit lands on the invoice after the customer opened the payment page.
      await db('update invoices set credit_idr = 5000 where id = $1', [invoice]);
      const r = await t.midtrans.notify(url(), t.midtrans.settle(order));
      expect(r).toMatchObject({ status: 422, body: { outcome: 'amount_mismatch' } });
      expect((r.body as { error: string }).error).toMatch(/gross_amount 80000.00 does not match/);
      expect((await t.call('GET', `/api/v1/invoices/${invoice}`)).body).toMatchObject({
        status: 'unpaid',
        payments: [],
      });
      expect(
        (await t.call('GET', `/api/v1/midtrans/notifications?order_id=${order}&outcome=amount_mismatch`)).body
          .total,
      ).toBe(1);
    });

    it('logs notifications for unknown orders and malformed bodies', async () => {
      const body: Record<string, unknown> = {
        ...t.midtrans.settle(orderId),
        order_id: 'INV-1999-000001-deadbeef',
      };
      body.signature_key = midtransSignature(
        'INV-1999-000001-deadbeef',
        '200',
        body.gross_amount as string,
        SERVER_KEY,
      );
      expect((await t.midtrans.notify(url(), body)).status).toBe(404);
      expect((await t.call('GET', '/api/v1/midtrans/notifications?outcome=unknown_order')).body.total).toBe(
        1,
      );
      const bad = await fetch(url(), {
        method: 'POST',
        body: '{"order_id": ',
        headers: { 'content-type': 'application/json' },
      });
      expect(bad.status).toBe(400);
      const missing = await t.midtrans.notify(url(), { order_id: orderId });
      expect(missing.status).toBe(400);
      expect((missing.body as { error: string }).error).toMatch(/transaction_status/);
      expect((await t.call('GET', '/api/v1/midtrans/notifications?outcome=malformed')).body.total).toBe(2);
    });

    it('pays an invoice once when notifications for it arrive concurrently, from two orders', async () => {
      const second = (await t.call('POST', `/api/v1/invoices/${invoiceId}/midtrans`, {})).body
        .order_id as string;
      const a = t.midtrans.settle(orderId);
      const b = t.midtrans.settle(second);
      const results = await Promise.all([
        ...Array.from({ length: 8 }, () => t.midtrans.notify(url(), a)),
        ...Array.from({ length: 8 }, () => t.midtrans.notify(url(), b)),
      ]);
      expect(results.every((r) => r.status === 200)).toBe(true);
      const outcomes = results.map((r) => (r.body as { outcome: string }).outcome);
      expect(outcomes.filter((o) => o === 'paid')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'late_payment_on_paid_invoice').length).toBeGreaterThanOrEqual(1); // the other order: flagged for refund
      const inv = await t.call('GET', `/api/v1/invoices/${invoiceId}`);
      expect(inv.body.status).toBe('paid');
      expect(inv.body.payments).toHaveLength(1);
    });

    it('finds a payment whose notification never came by polling Midtrans', async () => {
      const inv = await t.call('POST', '/api/v1/invoices', {
        customer_id: customerId,
        description: 'Router rental',
        amount_idr: 50000,
      });
      const order = (await t.call('POST', `/api/v1/invoices/${inv.body.id}/midtrans`, {})).body
        .order_id as string;
      t.midtrans.settle(order, { paymentType: 'qris' }); // no notification sent
      t.clock.now = new Date(t.clock.now.getTime() + 10 * 60_000);
      const poll = await t.call('POST', '/api/v1/midtrans/poll', {});
      expect(poll.body.outcomes.paid).toBe(1);
      expect((await t.call('GET', `/api/v1/invoices/${inv.body.id}`)).body).toMatchObject({
        status: 'paid',
        payments: [{ payment_type: 'qris' }],
      });
    });
    it('refuses a signed pending notification whose transaction_status was changed to settlement', async () => {
      const { invoice, order } = await newOrder(120000);
      const tampered = { ...t.midtrans.notificationFor(order), transaction_status: 'settlement' }; // still signed with 201
      const r = await t.midtrans.notify(url(), tampered);
      expect(r.status).toBe(400);
      expect((r.body as { error: string }).error).toBe(
        "status_code 201 does not go with transaction_status 'settlement': Midtrans sends 200; nothing applied",
      );
      expect((await t.call('GET', `/api/v1/invoices/${invoice}`)).body).toMatchObject({
        status: 'unpaid',
        payments: [],
      });
      expect(await orderRow(order)).toMatchObject({ status: 'pending' });
      const log = await t.call('GET', `/api/v1/midtrans/notifications?order_id=${order}`);
      expect(log.body.items).toHaveLength(1);
      expect(log.body.items[0]).toMatchObject({ outcome: 'status_code_mismatch', signature_valid: true });
      expect(JSON.parse(log.body.items[0].raw as string)).toEqual(tampered);
    });

    it('books what the status API says when a signed notification disagrees with it, and keeps its answer', async () => {
      const { invoice, order } = await newOrder(130000);
      // Correctly signed for 200 settlement, but Midtrans itself still says pending.
      const early: Record<string, unknown> = {
        ...t.midtrans.notificationFor(order),
        transaction_status: 'settlement',
        status_code: '200',
      };
      early.signature_key = midtransSignature(order, '200', '130000.00', SERVER_KEY);
      const r = await t.midtrans.notify(url(), early);
      // The order already was pending, so applying the status API's answer changes nothing.
      expect(r).toMatchObject({ status: 200, body: { status: 'ok', outcome: 'duplicate' } });
      expect((r.body as { note: string }).note).toBe(
        'notification said settlement 130000.00, the status API says pending 130000.00; the status API is applied',
      );
      expect((await t.call('GET', `/api/v1/invoices/${invoice}`)).body.status).toBe('unpaid');
      expect(await orderRow(order)).toMatchObject({
        status: 'pending',
        provider_status: { transaction_status: 'pending', status_code: '201' },
      });

      const settled = t.midtrans.settle(order, { paymentType: 'gopay' });
      const paid = await t.midtrans.notify(url(), settled);
      expect(paid).toEqual({ status: 200, body: { status: 'ok', outcome: 'paid' } });
      const tx = t.midtrans.transactions().find((x) => x.order_id === order);
      const [payment] = await db(
        'select provider_transaction_id, provider_status, raw from payments where invoice_id = $1',
        [invoice],
      );
      expect(payment).toMatchObject({
        provider_transaction_id: tx?.transaction_id,
        provider_status: {
          order_id: order,
          transaction_status: 'settlement',
          status_code: '200',
          status_message: 'Success, transaction is found',
          payment_type: 'gopay',
        },
        raw: { transaction_status: 'settlement', status_message: 'midtrans payment notification' },
      });
    });

    it('answers a NUL byte in the body or in a field with 400 and stores the body exactly', async () => {
      const { invoice, order } = await newOrder(140000);
      const body = JSON.stringify(t.midtrans.notificationFor(order));
      const rawNul = `${body.slice(0, 20)}\0${body.slice(20)}`;
      const a = await fetch(url(), {
        method: 'POST',
        body: rawNul,
        headers: { 'content-type': 'application/json' },
      });
      expect(a.status).toBe(400);
      expect(await a.json()).toEqual({ error: 'invalid Midtrans notification: body contains a NUL byte' });

      const escaped = JSON.stringify({ ...JSON.parse(body), transaction_id: 'abc\u0000def' });
      const b = await fetch(url(), {
        method: 'POST',
        body: escaped,
        headers: { 'content-type': 'application/json' },
      });
      expect(b.status).toBe(400);
      expect(await b.json()).toEqual({
        error: 'invalid Midtrans notification: transaction_id: contains a NUL character (\\u0000)',
      });

      const notUtf8 = Buffer.concat([
        Buffer.from(body.slice(0, 30)),
        Buffer.from([0xff, 0xfe]),
        Buffer.from(body.slice(30)),
      ]);
      const c = await fetch(url(), {
        method: 'POST',
        body: notUtf8,
        headers: { 'content-type': 'application/json' },
      });
      expect(c.status).toBe(400);

      const stored = await db(
        "select raw, raw_bytes, outcome from midtrans_notifications where outcome = 'malformed' and raw like $1 order by id",
        [`%${order}%`],
      );
      expect(stored).toHaveLength(3);
      expect(stored[0]).toMatchObject({
        raw: rawNul.replace('\0', '\\u0000'),
        raw_bytes: Buffer.from(rawNul),
      });
      expect(stored[1]).toMatchObject({ raw: escaped, raw_bytes: null }); // text holds the six characters \u0000
      expect(stored[2]?.raw_bytes).toEqual(notUtf8);
      // The API answers the exact bytes as base64.
      const listed = await t.call('GET', '/api/v1/midtrans/notifications?outcome=malformed&limit=500');
      const bytes = (listed.body.items as Array<{ raw_bytes: string | null }>)
        .filter((i) => i.raw_bytes !== null)
        .map((i) => Buffer.from(i.raw_bytes ?? '', 'base64'));
      expect(bytes).toEqual(expect.arrayContaining([Buffer.from(rawNul), notUtf8]));
      expect((await t.call('GET', `/api/v1/invoices/${invoice}`)).body.status).toBe('unpaid');
    });

    it('refuses a transaction id already booked for another order before changing anything', async () => {
      const first = await newOrder(150000);
      const second = await newOrder(150000);
      expect((await t.midtrans.notify(url(), t.midtrans.settle(first.order))).body).toMatchObject({
        outcome: 'paid',
      });
      const firstTx = t.midtrans.transactions().find((x) => x.order_id === first.order);
      const secondTx = t.midtrans.transactions().find((x) => x.order_id === second.order);
      if (!firstTx || !secondTx) throw new Error('stand-in lost a transaction');
      secondTx.transaction_id = firstTx.transaction_id; // Midtrans reports a transaction id already booked
      const r = await t.midtrans.notify(url(), t.midtrans.settle(second.order));
      expect(r).toMatchObject({ status: 409, body: { outcome: 'duplicate_transaction' } });
      expect((r.body as { error: string }).error).toMatch(
        /already booked for another order; nothing applied/,
      );
      expect((await t.call('GET', `/api/v1/invoices/${second.invoice}`)).body).toMatchObject({
        status: 'unpaid',
        payments: [],
      });
      expect(await orderRow(second.order)).toMatchObject({ status: 'pending', provider_status: null });
      expect((await t.call('GET', `/api/v1/invoices/${first.invoice}`)).body.payments).toHaveLength(1);
    });
  });

  it('keeps invoice numbers unique and gap-free when many are created at once', async () => {
    const before = (await t.call('GET', '/api/v1/invoices?limit=500')).body.items.map(
      (i: { number: string }) => i.number,
    ) as string[];
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        t.call('POST', '/api/v1/invoices', {
          customer_id: customerId,
          description: `Item ${i}`,
          amount_idr: 1000 + i,
        }),
      ),
    );
    expect(results.every((r) => r.status === 201)).toBe(true);
    const all = [...before, ...results.map((r) => r.body.number as string)]
      .map((n) => Number(n.split('-').pop()))
      .sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
  });

  it('keeps a suspension pending while the router is down and converges when it is back', async () => {
    const sub = await t.call('POST', '/api/v1/subscriptions', {
      customer_id: customerId,
      plan_id: planId,
      router_id: routerId,
      ppp_username: 'sari',
      first_invoice: false,
    });
    expect(sub.body.ppp_password).toMatch(/^[A-Za-z0-9_-]{12}$/); // generated, shown once
    await t.runtime.syncNow();
    expect(secret('sari')?.disabled).toBe(false);
    await router.setUnresponsive('refuse');
    const s = await t.call('POST', `/api/v1/subscriptions/${sub.body.id}/suspend`, {
      reason: 'customer asked for a pause',
    });
    expect(s.body.status).toBe('suspended');
    expect(await t.runtime.syncNow()).toEqual({ synced: 0, failed: 1 });
    const pending = await t.call('GET', `/api/v1/subscriptions/${sub.body.id}`);
    expect(pending.body).toMatchObject({ sync_state: 'pending', sync_attempts: 1 });
    expect(pending.body.sync_error).toMatch(/refused|ECONNREFUSED|unreachable/i);
    expect(await (await fetch(`${t.runtime.url}/metrics`)).text()).toMatch(
      /ispmon_billing_router_sync_failures_total\{router="core-jkt-1"\} 1/,
    );
    await router.setUnresponsive(false);
    expect(await t.runtime.syncNow()).toEqual({ synced: 0, failed: 0 }); // backing off
    t.clock.now = new Date(t.clock.now.getTime() + 60_000);
    expect(await t.runtime.syncNow()).toEqual({ synced: 1, failed: 0 });
    expect(secret('sari')?.profile).toBe('isolir');
  });

  it('reports drift made by hand on the router and repairs it', async () => {
    const s = secret('budi');
    if (!s) throw new Error('budi missing');
    s.disabled = true;
    s.profile = 'home-20M';
    router.model.secrets.push({
      ...s,
      id: '*FFF0',
      name: 'ghost',
      comment: 'ispmon:sub=999999',
      disabled: false,
    });
    const drift = await t.call('GET', `/api/v1/routers/${routerId}/drift`, undefined, t.tokens.viewer);
    expect(drift.body.drift).toEqual(
      expect.arrayContaining([
        { secret: 'budi', kind: 'wrong_profile', expected: 'home-10M', actual: 'home-20M' },
        { secret: 'budi', kind: 'wrong_disabled', expected: 'false', actual: 'true' },
        { secret: 'ghost', kind: 'unknown_secret', actual: 'ispmon:sub=999999' },
      ]),
    );
    expect(
      (await t.call('POST', `/api/v1/routers/${routerId}/reconcile`, { repair: true }, t.tokens.billing))
        .status,
    ).toBe(403);
    const repaired = await repairRouter(t, routerId);
    expect(repaired.body.repaired).toHaveLength(3);
    expect(secret('budi')).toMatchObject({ profile: 'home-10M', disabled: false });
    expect(secret('ghost')).toBeUndefined();
    expect((await t.call('GET', `/api/v1/routers/${routerId}/drift`)).body.drift).toEqual([]);
  });

  it('changes the profile on the router when the plan changes', async () => {
    const plan = await t.call('POST', '/api/v1/plans', {
      code: 'BIZ50',
      name: 'Business 50',
      kind: 'pppoe',
      rate_limit: '50M/50M',
      price_idr: '750000',
      validity_days: 30,
      profile: 'biz-50M',
    });
    const subs = await t.call('GET', '/api/v1/subscriptions?ppp_username=budi');
    const id = subs.body.items[0].id as number;
    const before = session('budi')?.id;
    expect(
      (await t.call('PATCH', `/api/v1/subscriptions/${id}`, { plan_id: plan.body.id })).body.plan_code,
    ).toBe('BIZ50');
    await t.runtime.syncNow();
    expect(secret('budi')?.profile).toBe('biz-50M');
    expect(session('budi')?.id).not.toBe(before);
  });

  it('answers bad requests with the field and the reason, and keeps viewers read-only', async () => {
    const missing = await t.call('POST', '/api/v1/customers', { code: 'C-009' });
    expect(missing).toEqual({
      status: 400,
      body: { error: 'name: Invalid input: expected string, received undefined', field: 'name' },
    });
    const money = await t.call('POST', '/api/v1/plans', {
      code: 'X',
      name: 'X',
      kind: 'pppoe',
      rate_limit: '1M/1M',
      price_idr: 1.5,
      validity_days: 30,
      profile: 'x',
    });
    expect(money.status).toBe(400);
    expect(money.body.field).toBe('price_idr');
    const dup = await t.call('POST', '/api/v1/customers', { code: 'C-001', name: 'Again' });
    expect(dup.status).toBe(409);
    expect(
      (await t.call('POST', '/api/v1/customers', { code: 'C-010', name: 'Viewer' }, t.tokens.viewer)).status,
    ).toBe(403);
    expect(
      (await t.call('POST', '/api/v1/subscriptions/1/suspend', { reason: 'x' }, t.tokens.viewer)).status,
    ).toBe(403);
    expect((await t.call('GET', '/api/v1/customers', undefined, null)).status).toBe(401);
    expect((await t.call('GET', '/api/v1/customers', undefined, 'isb_not-a-token')).status).toBe(401);
    expect(
      (
        await t.call(
          'POST',
          '/api/v1/routers',
          { name: 'r2', host: 'x', username: 'u', password: 'p' },
          t.tokens.billing,
        )
      ).status,
    ).toBe(403);
    const list = await t.call('GET', '/api/v1/customers?q=budi', undefined, t.tokens.viewer);
    expect(list.body).toMatchObject({ total: 1, items: [{ code: 'C-001' }] });
    const routers = await t.call('GET', '/api/v1/routers', undefined, t.tokens.viewer);
    expect(JSON.stringify(routers.body)).not.toContain(router.password);
    const doc = await (await fetch(`${t.runtime.url}/openapi.json`)).json();
    expect(Object.keys((doc as { paths: object }).paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/subscriptions/{id}/suspend',
        '/payments/midtrans/notification',
        '/api/v1/billing-cycle/run',
      ]),
    );
  });
});
