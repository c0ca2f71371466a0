// Notices to subscribers against real parts: billing on PostgreSQL, an SMTP server on loopback, and the
// lab's SMS and WhatsApp gateway stand-ins. Each test has its own customers, so the order does not matter;
// the clock is the harness's and every delivery round is driven by hand.
import { execFileSync } from 'node:child_process';
import { startMessageGateway, type MessageGateway } from '@ispmon/lab';
import { findBinary, startPostgres, type PostgresServer } from '@ispmon/testkit';
import { createPlan, registerRouter, startHarness, type Harness } from '../../test/harness.js';
import { startMailSink, type MailSink } from '../../test/mail-sink.js';
import { parseNoticeConfig } from './config.js';
import { NoticeService } from './service.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('notices to subscribers', () => {
  let pg: PostgresServer;
  let t: Harness;
  let smtp: MailSink;
  let gateway: MessageGateway;
  let notices: NoticeService;
  let routerId = 0;
  let planId = 0;
  let seq = 0;

  const db = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> =>
    (await t.runtime.orm.em.fork().execute(sql, params, 'all')) as T[];
  const noticesOf = (customerId: number) =>
    db<{
      id: string;
      event: string;
      channel: string;
      status: string;
      attempts: number;
      last_error: string | null;
    }>(
      'select id, event, channel, status, attempts, last_error from notices where customer_id = ? order by id',
      [customerId],
    );
  const toGateway = (number: string) => gateway.received.filter((m) => m.to === number);
  const mailsTo = (address: string) => smtp.mails.filter((m) => m.to.includes(address));

  /** A customer with a subscription whose first invoice (due in 3 days) is issued at the current clock. */
  async function subscriber(o: { channels?: string[]; email?: boolean } = {}): Promise<{
    customer: number;
    subscription: number;
    invoice: number;
    phone: string;
    email: string;
    gatewayNumber: string;
  }> {
    seq += 1;
    const n = String(1000 + seq);
    const email = `pelanggan${n}@example.co.id`;
    const c = await t.call('POST', '/api/v1/customers', {
      code: `N-${n}`,
      name: `Pelanggan ${n}`,
      ...(o.email === false ? {} : { email }),
      phone: `0812-3456-${n}`,
    });
    expect(c.status).toBe(201);
    if (o.channels) {
      const s = await t.call('PUT', `/api/v1/customers/${c.body.id}/notice-settings`, {
        channels: o.channels,
      });
      expect(s.status).toBe(200);
    }
    const s = await t.call('POST', '/api/v1/subscriptions', {
      customer_id: c.body.id,
      plan_id: planId,
      router_id: routerId,
      ppp_username: `pel${n}`,
      ppp_password: 'rahasia123',
    });
    expect(s.status).toBe(201);
    const inv = await db<{ id: string }>('select id from invoices where subscription_id = ?', [s.body.id]);
    return {
      customer: c.body.id as number,
      subscription: s.body.id as number,
      invoice: Number(inv[0]?.id),
      phone: `0812-3456-${n}`,
      email,
      gatewayNumber: `628123456${n}`,
    };
  }

  beforeAll(async () => {
    pg = await startPostgres();
    smtp = await startMailSink();
    const smtpPort = smtp.port;
    gateway = await startMessageGateway({ token: 'fonnte-token-123' });
    const config = parseNoticeConfig(
      {
        default_language: 'id',
        reminder_days_before: [3, 2, 1],
        quiet_hours: { start: '21:00', end: '07:00' },
        time_zone: 'Asia/Jakarta',
        max_attempts: 3,
        scan_interval_seconds: 0,
        delivery_interval_seconds: 0,
        delivery_timeout_seconds: 10, // no test times a send out; 2 s could fail a slow local send under load
        provider_name: 'NetLab ISP',
        email: { smtp_url: `smtp://127.0.0.1:${smtpPort}`, from: 'NetLab ISP <billing@netlab.test>' },
        sms: {
          url: `${gateway.url}/sms`,
          token: gateway.token,
          auth_scheme: 'Bearer',
          format: 'json',
          body: { to: '{{to}}', message: '{{message}}' },
        },
        whatsapp: {
          url: `${gateway.url}/send`,
          token: { env: 'NOTICES_TEST_WHATSAPP_TOKEN' },
          format: 'form',
          body: { target: '{{to}}', message: '{{message}}', countryCode: '62' },
          success_field: 'status',
        },
      },
      'test',
    );
    t = await startHarness(pg, {
      extensions: (deps) => [
        new NoticeService(deps, {
          config,
          env: { NOTICES_TEST_WHATSAPP_TOKEN: gateway.token },
          paymentLink: (id) => `https://portal.netlab.test/pay/${id}?sig=placeholder`,
          random: () => 0.5,
        }),
      ],
    });
    notices = t.runtime.extensions.find(
      (e): e is NoticeService => e instanceof NoticeService,
    ) as NoticeService;
    // 10:00 in Jakarta: outside quiet hours.
    t.clock.now = new Date('2026-03-02T03:00:00Z');
    routerId = await registerRouter(t, 'core-notices', {
      host: '127.0.0.1',
      port: 9,
      username: 'api',
      password: 'x',
    });
    planId = await createPlan(t, {
      code: 'HOME20',
      name: 'Home 20 Mbps',
      kind: 'pppoe',
      rate_limit: '20M/20M',
      price_idr: 175000,
      validity_days: 30,
      profile: 'home-20M',
    });
  }, 60_000);

  afterAll(async () => {
    await t?.stop();
    await gateway?.close();
    await smtp?.close();
    await pg?.stop();
  });

  it('sends one notice per (invoice, event, channel) however often the scan runs, each with its stable key, through the whole life of an invoice', async () => {
    t.clock.now = new Date('2026-03-02T03:00:00Z');
    const s = await subscriber();
    await notices.scan();
    expect((await notices.scan()).queued).toEqual({}); // a second scan finds nothing new
    await notices.deliver();
    await notices.scan();
    await notices.deliver();

    const issued = await noticesOf(s.customer);
    expect(issued.map((n) => [n.event, n.channel, n.status, n.attempts])).toEqual([
      ['invoice_issued', 'email', 'sent', 1],
      ['invoice_issued', 'sms', 'sent', 1],
      ['invoice_issued', 'whatsapp', 'sent', 1],
    ]);
    const [mail] = mailsTo(s.email);
    expect(mailsTo(s.email)).toHaveLength(1);
    expect(mail?.text).toContain(`Message-ID: <ispmon-notice-${issued[0]?.id}@ispmon>`);
    expect(mail?.text).toMatch(/Subject: Tagihan INV-2026-\d{6} dari NetLab ISP/);
    expect(mail?.text).toContain('Rp 175.000');
    expect(mail?.text).toContain(`https://portal.netlab.test/pay/${s.subscription}?sig=placeholder`);
    const messages = toGateway(s.gatewayNumber);
    expect(messages.map((m) => [m.path, m.key, m.status])).toEqual([
      ['/sms', `ispmon-notice-${issued[1]?.id}`, 200],
      ['/send', `ispmon-notice-${issued[2]?.id}`, 200],
    ]);
    expect(messages[1]?.message).toMatch(
      /^Tagihan INV-2026-\d{6} dari NetLab ISP\nYth\. Pelanggan \d+, tagihan/,
    );

    // No 3-day reminder: the invoice was issued only 3 days before it falls due. 36 hours before: the 2-day
    // reminder; 12 hours before: the 1-day one; each once however often the scan runs.
    const invoice = (await t.call('GET', `/api/v1/invoices/${s.invoice}`)).body as { due_at: string };
    const due = new Date(invoice.due_at).getTime();
    const eventsOf = async (): Promise<string[]> => (await noticesOf(s.customer)).map((n) => n.event);
    t.clock.now = new Date(due - 36 * HOUR);
    await notices.scan();
    await notices.scan();
    expect((await eventsOf()).filter((e) => e === 'reminder')).toHaveLength(3);
    t.clock.now = new Date(due - 12 * HOUR);
    await notices.scan();
    await notices.scan();
    expect((await eventsOf()).filter((e) => e === 'reminder')).toHaveLength(6);
    await notices.deliver();

    // Past due and grace: the cycle marks it overdue and suspends; both are noticed once.
    t.clock.now = new Date(due + 4 * DAY);
    const cycle = await t.call('POST', '/api/v1/billing-cycle/run', {});
    expect(cycle.body.subscriptionsSuspended.count).toBeGreaterThanOrEqual(1);
    await notices.scan();
    await t.call('POST', '/api/v1/billing-cycle/run', {});
    await notices.scan();
    await notices.deliver();
    expect(await noticesOf(s.customer)).toHaveLength(15);
    const suspendedMail = mailsTo(s.email).find((m) =>
      m.text.includes('Subject: Layanan internet Anda diisolir'),
    );
    expect(suspendedMail?.text).toContain(`https://portal.netlab.test/pay/${s.subscription}?sig=placeholder`);
    expect(suspendedMail?.text).toContain('Rp 175.000');

    // Paid by transfer: "paid" and "restored", once each per channel; nothing else again.
    const pay = await t.call('POST', `/api/v1/invoices/${s.invoice}/payments`, {
      method: 'transfer',
      amount_idr: 175000,
    });
    expect(pay.status).toBe(201);
    await notices.scan();
    await notices.deliver();
    for (let i = 0; i < 3; i++) {
      await t.call('POST', '/api/v1/billing-cycle/run', {});
      await notices.scan();
      await notices.deliver();
    }
    const all = await noticesOf(s.customer);
    expect(all.every((n) => n.status === 'sent' && n.attempts === 1)).toBe(true);
    const events = (channel: string) => all.filter((n) => n.channel === channel).map((n) => n.event);
    expect(events('whatsapp').sort()).toEqual(
      ['invoice_issued', 'reminder', 'reminder', 'overdue', 'suspended', 'paid', 'restored'].sort(),
    );
    expect(mailsTo(s.email)).toHaveLength(7);
    expect(toGateway(s.gatewayNumber)).toHaveLength(14);
    expect(new Set(toGateway(s.gatewayNumber).map((m) => m.key)).size).toBe(14);

    const metrics = await (await fetch(`${t.runtime.url}/metrics`)).text();
    expect(metrics).toMatch(
      /ispmon_billing_notices_sent_total\{channel="whatsapp",event="suspended"\} [1-9]/,
    );
    expect(metrics).toContain('ispmon_billing_notices_pending{channel="sms"} 0');
    expect(metrics).not.toContain(gateway.token);
    expect(
      execFileSync(findBinary('promtool', 'prometheus'), ['check', 'metrics'], {
        input: metrics,
        encoding: 'utf8',
      }),
    ).toBe('');
  });

  it('retries a 500 from the gateway with backoff, and dead-letters after the last attempt', async () => {
    t.clock.now = new Date('2026-03-12T03:00:00Z');
    const retried = await subscriber({ channels: ['sms'] });
    await notices.scan();
    gateway.failNext(1);
    await notices.deliver();
    const [n] = await noticesOf(retried.customer);
    expect(n).toMatchObject({ event: 'invoice_issued', channel: 'sms', status: 'pending', attempts: 1 });
    expect(n?.last_error).toContain('HTTP 500');
    const [due] = await db<{ next_attempt_at: Date }>('select next_attempt_at from notices where id = ?', [
      n?.id,
    ]);
    // First retry after 1 s (random 0.5 sits in the middle of the jitter).
    expect(new Date(due?.next_attempt_at ?? 0).getTime() - t.clock.now.getTime()).toBe(1_000);
    expect(await notices.deliver()).toBe(0); // not due yet
    t.clock.now = new Date(t.clock.now.getTime() + 1_000);
    await notices.deliver();
    expect((await noticesOf(retried.customer)).map((x) => [x.status, x.attempts])).toEqual([['sent', 2]]);
    expect(toGateway(retried.gatewayNumber).map((m) => [m.status, m.key])).toEqual([
      [500, `ispmon-notice-${n?.id}`],
      [200, `ispmon-notice-${n?.id}`],
    ]);

    const dead = await subscriber({ channels: ['sms'] });
    await notices.scan();
    gateway.failNext(100);
    for (let i = 0; i < 4; i++) {
      await notices.deliver();
      t.clock.now = new Date(t.clock.now.getTime() + 10_000);
    }
    gateway.failNext(0);
    const [d] = await noticesOf(dead.customer);
    expect(d).toMatchObject({ status: 'dead', attempts: 3 });
    expect(toGateway(dead.gatewayNumber)).toHaveLength(3);
    const attempts = await db<{ ok: boolean }>(
      'select ok from notice_attempts where notice_id = ? order by id',
      [d?.id],
    );
    expect(attempts.map((a) => a.ok)).toEqual([false, false, false]);
    const metrics = await (await fetch(`${t.runtime.url}/metrics`)).text();
    expect(metrics).toMatch(
      /ispmon_billing_notices_failed_total\{channel="sms",event="invoice_issued"\} [3-9]/,
    );
    expect(metrics).toMatch(
      /ispmon_billing_notices_dead_total\{channel="sms",event="invoice_issued"\} [1-9]/,
    );

    // Resend: the dead letter goes out again with a new key once the gateway is back.
    const resent = await t.call('POST', `/api/v1/notices/${d?.id}/resend`, {});
    expect(resent.status).toBe(200);
    expect(resent.body).toMatchObject({ status: 'pending', generation: 1 });
    await notices.deliver();
    expect((await noticesOf(dead.customer))[0]).toMatchObject({ status: 'sent', attempts: 4 });
    expect(toGateway(dead.gatewayNumber).at(-1)).toMatchObject({
      status: 200,
      key: `ispmon-notice-${d?.id}-r1`,
    });
  });

  it('holds due notices through quiet hours and sends them when they end', async () => {
    t.clock.now = new Date('2026-03-13T15:00:00Z'); // 22:00 in Jakarta
    const s = await subscriber({ channels: ['whatsapp'] });
    await notices.scan();
    expect((await noticesOf(s.customer)).map((n) => n.event)).toEqual(['invoice_issued']);
    await notices.deliver();
    expect(toGateway(s.gatewayNumber)).toHaveLength(0);
    const [n] = await db<{ status: string; next_attempt_at: Date }>(
      'select status, next_attempt_at from notices where customer_id = ?',
      [s.customer],
    );
    expect(n?.status).toBe('pending');
    expect(new Date(n?.next_attempt_at ?? 0).toISOString()).toBe('2026-03-14T00:00:00.000Z'); // 07:00 WIB
    t.clock.now = new Date('2026-03-13T23:59:00Z');
    await notices.deliver();
    expect(toGateway(s.gatewayNumber)).toHaveLength(0);
    t.clock.now = new Date('2026-03-14T00:00:00Z');
    await notices.deliver();
    expect(toGateway(s.gatewayNumber).map((m) => m.status)).toEqual([200]);
  });

  it('suppresses the notices of a customer who opted out, also those queued before the opt-out', async () => {
    t.clock.now = new Date('2026-03-16T03:00:00Z');
    const before = await subscriber({ channels: ['sms', 'whatsapp'] });
    await notices.scan(); // queued while still opted in
    const out = await t.call('PUT', `/api/v1/customers/${before.customer}/notice-settings`, {
      opted_out: true,
    });
    expect(out.status).toBe(200);
    expect(out.body).toMatchObject({ opted_out: true, channels: ['sms', 'whatsapp'], language: 'id' });
    await notices.deliver();
    expect((await noticesOf(before.customer)).map((n) => [n.status, n.last_error])).toEqual([
      ['suppressed', 'customer opted out'],
      ['suppressed', 'customer opted out'],
    ]);

    // Opted out before the event: recorded as suppressed, never sent.
    const c = await t.call('POST', '/api/v1/customers', {
      code: 'N-OPT',
      name: 'Opt Out',
      phone: '081299990000',
    });
    await t.call('PUT', `/api/v1/customers/${c.body.id}/notice-settings`, {
      opted_out: true,
      language: 'en',
    });
    const sub = await t.call('POST', '/api/v1/subscriptions', {
      customer_id: c.body.id,
      plan_id: planId,
      router_id: routerId,
      ppp_username: 'optout',
    });
    expect(sub.status).toBe(201);
    await notices.scan();
    // No e-mail address: SMS and WhatsApp, both recorded as suppressed.
    expect((await noticesOf(c.body.id as number)).map((n) => [n.channel, n.status])).toEqual([
      ['sms', 'suppressed'],
      ['whatsapp', 'suppressed'],
    ]);
    await notices.deliver();
    expect(toGateway('6281299990000')).toHaveLength(0);
    expect(toGateway(before.gatewayNumber)).toHaveLength(0);
    expect(mailsTo(before.email)).toHaveLength(0);
  });

  it('lists notices with filters, refuses bad input with the field named, and resends only what went out or died', async () => {
    t.clock.now = new Date('2026-03-17T03:00:00Z');
    const s = await subscriber({ channels: ['email'] });
    await t.call('PUT', `/api/v1/customers/${s.customer}/notice-settings`, { language: 'en' });
    await notices.scan();
    const pending = await t.call(
      'GET',
      `/api/v1/notices?customer_id=${s.customer}&status=pending`,
      undefined,
      t.tokens.viewer,
    );
    expect(pending.status).toBe(200);
    expect(pending.body.total).toBe(1);
    const id = pending.body.items[0].id as number;
    expect((await t.call('POST', `/api/v1/notices/${id}/resend`, {})).status).toBe(409);
    await notices.deliver();
    const [mail] = mailsTo(s.email);
    expect(mail?.text).toMatch(/Subject: Invoice INV-2026-\d{6} from NetLab ISP/);

    expect((await t.call('POST', `/api/v1/notices/${id}/resend`, {}, t.tokens.viewer)).status).toBe(403);
    const resend = await t.call('POST', `/api/v1/notices/${id}/resend`, {});
    expect(resend.status).toBe(200);
    await notices.deliver();
    expect(mailsTo(s.email)).toHaveLength(2);
    expect(mailsTo(s.email)[1]?.text).toContain(`Message-ID: <ispmon-notice-${id}-r1@ispmon>`);
    const one = await t.call('GET', `/api/v1/notices/${id}`);
    expect(one.body).toMatchObject({ status: 'sent', generation: 1, attempts: 2 });
    expect(one.body.delivery_attempts).toEqual([
      expect.objectContaining({ ok: true }),
      expect.objectContaining({ ok: true }),
    ]);
    const audit = await t.call('GET', `/api/v1/audit?entity=notices&entity_id=${id}`);
    expect(audit.body.items).toEqual([expect.objectContaining({ action: 'resend', actor: 'budi.billing' })]);

    const bad = await t.call('GET', '/api/v1/notices?event=birthday');
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('event');
    const badChannel = await t.call('PUT', `/api/v1/customers/${s.customer}/notice-settings`, {
      channels: ['fax'],
    });
    expect(badChannel.status).toBe(400);
    expect(badChannel.body.error).toMatch(/^channels\.0: /);
    expect(
      (await t.call('PUT', '/api/v1/customers/999999/notice-settings', { opted_out: true })).status,
    ).toBe(404);
    expect((await t.call('GET', '/api/v1/notices/abc')).status).toBe(400);
    expect((await t.call('GET', '/api/v1/notices/999999')).status).toBe(404);
  });
});
