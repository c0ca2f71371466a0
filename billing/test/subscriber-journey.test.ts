// The subscriber's side end to end, on the lab: billing (in process, real PostgreSQL) provisions the
// RouterOS simulator; an invoice falls overdue and the cycle suspends the subscriber; billing writes the
// walled garden; the subscriber's web request, routed through the simulator's dst-nat and filter rules,
// lands on the isolation page, which Chromium renders (its every request goes through the simulated
// router as the subscriber, via the lab's subscriber proxy); they pay on the lab's Midtrans stand-in;
// billing restores them on the router. Notices (reminder, overdue, suspended with the signed portal link,
// paid, restored) reach a real SMTP server on loopback and the lab's SMS and WhatsApp gateway stand-ins
// once each. Re-running the cycle, the sync and the notice scan sends nothing.
// Source addresses are real: the subscribers' PPP addresses are in 127.0.0.0/8 (127.0.9.x), the lab
// sends from them, and the portal trusts no proxy (PORTAL_TRUSTED_PROXIES unset). One subscriber's
// address comes from the router, not billing (the /ppp/active lookup). What is already pinned by
// test/portal/portal.integration.test.ts (forged and expired links, spoofed X-Forwarded-For, rate limit,
// another subscriber's invoice) is not repeated here. Screenshots go to var/test-artifacts/journey/.
import { mkdirSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'puppeteer-core';
import { RouterOsClient } from '@ispmon/routeros';
import {
  startMessageGateway,
  startRouterLab,
  startSubscriberProxy,
  type MessageGateway,
  subscriberHttpRequest,
  type RouterLab,
  type SimRouter,
  type SubscriberProxy,
} from '@ispmon/lab';
import { freePort, startPostgres, waitFor, type PostgresServer } from '@ispmon/testkit';
import { parseNoticeConfig } from '../src/notices/config.js';
import { NoticeService } from '../src/notices/service.js';
import { portalLink } from '../src/portal/link.js';
import { portalExtensions, portalSettings } from '../src/portal/wiring.js';
import { RouterOsGateway } from '../src/provisioning/routeros-gateway.js';
import { WALLED_GARDEN_TAG } from '../src/provisioning/walled-garden.js';
import { chromiumIt, follow, launchChromium, phonePage, screenshot, textOf } from './chromium.js';
import { createPlan, HOME10, registerRouter, startHarness, type Harness } from './harness.js';
import { startMailSink, type MailSink } from './mail-sink.js';

const artefacts = join(
  process.env.TEST_ARTIFACTS_DIR ?? fileURLToPath(new URL('../../var/test-artifacts', import.meta.url)),
  'journey',
);
const DEWI = '127.0.9.2'; // billing assigned it (subscriptions.remote_address)
const RUDI = '127.0.9.3'; // the router assigned it; billing does not know it
const MIDTRANS_HOST = '127.0.8.1';
const SITE_IP = '198.51.100.20';
const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const DEWI_PHONE = '6281255550101';
/** Words only one notice kind's Indonesian message has (billing/templates/notices/id). */
const PHRASE = {
  reminder: 'Mohon dibayar sebelumnya',
  overdue: 'Layanan Anda akan diisolir',
  suspended: 'Anda diisolir',
  paid: 'sudah lunas',
  restored: 'sudah aktif kembali',
} as const;

/** One request to billing sent from a chosen loopback address, as a subscriber's connection would be. */
function from(source: string, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const r = request(
      { host: u.hostname, port: u.port, path: u.pathname, localAddress: source, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    r.on('error', reject);
    r.end();
  });
}

describe("a subscriber's journey: overdue, isolated, paid, restored", () => {
  let pg: PostgresServer;
  let lab: RouterLab;
  let nas: SimRouter;
  let t: Harness;
  let site: Server;
  let internet: Map<string, string>;
  let smtp: MailSink;
  let messages: MessageGateway;
  let notices: NoticeService;
  const subs = { dewi: { id: 0, invoice: '' }, rudi: { id: 0, invoice: '' } };

  const session = (name: string, profile: string) =>
    waitFor(
      `${name}'s session on ${profile}`,
      async () => nas.activeSessions().find((a) => a.name === name && a.profile === profile),
      { timeoutMs: 30_000 }, // dial-ins happen on the lab's 1 s tick; a loaded machine runs it late
    );
  /** How many of each notice reached Dewi on each channel (e-mail, SMS, WhatsApp). */
  const reached = (kind: keyof typeof PHRASE) => ({
    email: smtp.mails.filter((m) => m.to.includes('dewi@example.co.id') && m.text.includes(PHRASE[kind]))
      .length,
    sms: messages.received.filter(
      (m) => m.path === '/sms' && m.status === 200 && m.to === DEWI_PHONE && m.message.includes(PHRASE[kind]),
    ).length,
    whatsapp: messages.received.filter(
      (m) =>
        m.path === '/send' && m.status === 200 && m.to === DEWI_PHONE && m.message.includes(PHRASE[kind]),
    ).length,
  });
  const once = { email: 1, sms: 1, whatsapp: 1 };
  const none = { email: 0, sms: 0, whatsapp: 0 };
  /** One scan and delivery round, as the notice jobs would run them at the harness's clock. */
  const noticeRound = async () => {
    const scanned = await notices.scan();
    await notices.deliver();
    return scanned;
  };

  /** The isolir address list as the router prints it over the API (PPP sessions' dynamic entries). */
  const isolirList = async (): Promise<string[]> => {
    const c = await RouterOsClient.connect({
      host: nas.host,
      port: nas.port,
      username: nas.username,
      password: nas.password,
    });
    try {
      const rows = await c.command('/ip/firewall/address-list/print', ['?list=isolir']);
      return rows.map((r) => r.address ?? '').sort();
    } finally {
      c.close();
    }
  };
  const browse = (src: string, path = '/') =>
    subscriberHttpRequest(nas.model, {
      src,
      url: `http://news.example${path}`,
      headers: { accept: HTML },
      dnsServer: '8.8.8.8',
      internet,
    });

  beforeAll(async () => {
    site = createServer((req, res) => res.end(`news host=${req.headers.host ?? ''}`));
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    internet = new Map([[`${SITE_IP}:80`, `127.0.0.1:${(site.address() as AddressInfo).port}`]]);
    [pg, lab] = await Promise.all([
      startPostgres(),
      startRouterLab({
        routers: [{ name: 'nas-journey', version: '7.18.2', interfaces: 2, pppSessions: 0 }],
      }),
    ]);
    nas = lab.router('nas-journey');
    nas.model.firewall.dns.set('news.example', [SITE_IP]);
    nas.model.firewall.dns.set('portal.netkita.test', ['127.0.0.1']);
    nas.model.firewall.dns.set('app.sandbox.midtrans.com', [MIDTRANS_HOST]);

    smtp = await startMailSink();
    messages = await startMessageGateway({ token: 'gateway-token-journey' });
    const noticeConfig = parseNoticeConfig(
      {
        reminder_days_before: [1],
        scan_interval_seconds: 0,
        delivery_interval_seconds: 0,
        delivery_timeout_seconds: 5,
        provider_name: 'NetKita',
        email: {
          smtp_url: `smtp://127.0.0.1:${smtp.port}`,
          from: 'NetKita <tagihan@netkita.test>',
        },
        sms: {
          url: `${messages.url}/sms`,
          token: messages.token,
          auth_scheme: 'Bearer',
          format: 'json',
          body: { to: '{{to}}', message: '{{message}}' },
        },
        whatsapp: {
          url: `${messages.url}/send`,
          token: messages.token,
          format: 'form',
          body: { target: '{{to}}', message: '{{message}}' },
          success_field: 'status',
        },
      },
      'journey test',
    );
    const port = await freePort();
    // The garden sends isolated HTTP to billing (127.0.0.1:port) and lets the Midtrans host through.
    const gateway = new RouterOsGateway({
      walledGarden: {
        portalAddress: '127.0.0.1',
        portalPort: port,
        allowedHosts: ['app.sandbox.midtrans.com'],
        allowedList: 'ispmon-walled-garden',
      },
    });
    const env = {
      PORTAL_SECRET: 'journey-test-secret-0123456789abcdef',
      PORTAL_PUBLIC_URL: `http://portal.netkita.test:${port}`,
      SLA_PROVIDER_NAME: 'NetKita',
    };
    const links = portalSettings(env).links;
    if (!links) throw new Error('the portal settings made no signed links');
    const portal = portalExtensions(env, { sessions: gateway });
    t = await startHarness(
      pg,
      {
        port,
        gateway,
        extensions: (deps) => [
          ...portal(deps),
          // The suspended notice carries the portal's signed link, as main.ts wires it.
          new NoticeService(deps, {
            config: noticeConfig,
            paymentLink: (id) => portalLink(links, id, deps.clock()).url,
          }),
        ],
      },
      { midtransHost: MIDTRANS_HOST },
    );
    notices = t.runtime.extensions.find(
      (e): e is NoticeService => e instanceof NoticeService,
    ) as NoticeService;
    // 10:00 in Jakarta, outside the default quiet hours (21:00-07:00), for every step below.
    t.clock.now = new Date('2026-03-01T03:00:00Z');
    const routerId = await registerRouter(t, nas.name, nas);
    const planId = await createPlan(t, { ...HOME10, isolation: 'profile' });
    for (const [key, name, address] of [
      ['dewi', 'Dewi Lestari', DEWI],
      ['rudi', 'Rudi Hartono', undefined],
    ] as const) {
      const c = await t.call('POST', '/api/v1/customers', {
        code: `C-${key}`,
        name,
        email: `${key}@example.co.id`,
        phone: key === 'dewi' ? '+62 812 5555 0101' : '+62 812 5555 0202',
      });
      expect(c.status).toBe(201);
      const s = await t.call('POST', '/api/v1/subscriptions', {
        customer_id: c.body.id,
        plan_id: planId,
        router_id: routerId,
        ppp_username: key,
        ppp_password: `rahasia-${key}`,
        ...(address ? { remote_address: address } : {}),
        first_invoice: true,
      });
      expect(s.status).toBe(201);
      subs[key].id = s.body.id as number;
    }
    await t.runtime.syncNow();
    // The operator gives Rudi a static address on the router itself; then both CPEs dial in.
    const rudi = nas.secrets().find((s) => s.name === 'rudi');
    if (!rudi) throw new Error('billing did not create rudi on the router');
    rudi.remoteAddress = RUDI;
    for (const name of ['dewi', 'rudi']) nas.model.scheduleReconnect(name, 0);
    expect((await session('dewi', 'home-10M')).address).toBe(DEWI);
    expect((await session('rudi', 'home-10M')).address).toBe(RUDI);
    mkdirSync(artefacts, { recursive: true });
  }, 90_000);

  afterAll(async () => {
    await t?.stop();
    await messages?.close();
    await smtp?.close();
    await lab?.stop();
    await pg?.stop();
    await new Promise((r) => site?.close(r));
  });

  it('reminds the subscriber the day before the invoice falls due, once on each channel', async () => {
    await noticeRound(); // the invoices just issued
    // First invoices fall due after 3 days: the day before, a reminder.
    t.clock.now = new Date('2026-03-03T06:00:00Z');
    await noticeRound();
    expect(reached('reminder')).toEqual(once);
    await noticeRound();
    expect(reached('reminder')).toEqual(once);
    expect(reached('overdue')).toEqual(none);
  });

  it('suspends on the overdue invoice, tells the subscriber, and puts the walled garden on the router', async () => {
    // Overdue 3 days after falling due: the cycle marks it and suspends.
    t.clock.now = new Date('2026-03-09T03:00:00Z');
    const cycle = await t.call('POST', '/api/v1/billing-cycle/run', {});
    expect(cycle.body.subscriptionsSuspended.count).toBe(2);
    await noticeRound();
    expect(reached('overdue')).toEqual(once);
    expect(reached('suspended')).toEqual(once);
    for (const key of ['dewi', 'rudi'] as const) {
      const inv = await t.call('GET', `/api/v1/invoices?subscription_id=${subs[key].id}`);
      expect(inv.body.items).toHaveLength(1);
      expect(inv.body.items[0]).toMatchObject({ status: 'overdue', amount_idr: 150000 });
      subs[key].invoice = inv.body.items[0].number as string;
    }
    await t.runtime.syncNow();
    expect(nas.secrets().find((s) => s.name === 'dewi')?.profile).toBe('isolir');
    await session('dewi', 'isolir');
    await session('rudi', 'isolir');
    expect(await isolirList()).toEqual([DEWI, RUDI]);
    expect(nas.model.firewall.nat.map((r) => r.fields)).toEqual([
      expect.objectContaining({
        chain: 'dstnat',
        action: 'dst-nat',
        'src-address-list': 'isolir',
        'dst-port': '80',
        'to-addresses': '127.0.0.1',
        comment: `${WALLED_GARDEN_TAG}:http-to-portal`,
      }),
    ]);
    expect(nas.model.firewall.filter.map((r) => r.fields.comment)).toEqual(
      ['dns-udp', 'dns-tcp', 'allowed-hosts', 'drop'].map((k) => `${WALLED_GARDEN_TAG}:${k}`),
    );
  });

  it("takes the subscriber's web request through the router's rules to their own page", async () => {
    const landing = await browse(DEWI, '/berita/hari-ini');
    expect(landing).toMatchObject({
      outcome: 'answered',
      status: 302,
      reached: `127.0.0.1:${new URL(t.runtime.url).port}`,
    });
    expect(landing.outcome === 'answered' && landing.headers.location).toBe('/portal');
    expect(landing.verdict.natRule).toBe(nas.model.firewall.nat[0]?.id);
    const page = await browse(DEWI, '/portal');
    expect(page.outcome === 'answered' && page.status).toBe(200);
    const html = page.outcome === 'answered' ? page.body : '';
    expect(html).toContain('Dewi Lestari');
    expect(html).toContain(subs.dewi.invoice);
    expect(html).not.toContain('Rudi');
    expect(html).not.toContain(subs.rudi.invoice);
    // Everything else is dropped; the payment provider is not.
    const https = subscriberHttpRequest(nas.model, { src: DEWI, url: `http://${SITE_IP}:8443/`, internet });
    expect((await https).outcome).toBe('dropped');
  });

  it("opens the page from anywhere through the suspended notice's signed link", async () => {
    const notice = messages.received.find(
      (m) => m.path === '/send' && m.to === DEWI_PHONE && m.message.includes(PHRASE.suspended),
    );
    const link = /http:\/\/portal\.netkita\.test:\d+(\/portal\/link\/[A-Za-z0-9._-]+)/.exec(
      notice?.message ?? '',
    );
    expect(link).not.toBeNull();
    const page = await from('127.0.9.99', `${t.runtime.url}${link?.[1] ?? ''}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Dewi Lestari');
    expect(page.body).toContain(subs.dewi.invoice);
  });

  it("recognises an address billing did not assign by the router's /ppp/active", async () => {
    // A second router that does not answer: logged and counted, the one that answers still decides.
    await registerRouter(t, 'nas-down', {
      host: '127.0.0.1',
      port: await freePort(),
      username: 'admin',
      password: 'x',
    });
    const page = await browse(RUDI, '/portal');
    const html = page.outcome === 'answered' ? page.body : '';
    expect(html).toContain('Rudi Hartono');
    expect(html).toContain(subs.rudi.invoice);
    expect(html).not.toContain('Dewi');
    // An address nobody holds, billing or router: the neutral page, after asking the router.
    const nobody = await from('127.0.9.99', `${t.runtime.url}/portal`);
    expect(nobody.body).toContain('Tidak ada tagihan untuk ditampilkan');
    const metrics = await (await fetch(`${t.runtime.url}/metrics`)).text();
    expect(metrics).toMatch(/^ispmon_billing_portal_session_lookups_total\{outcome="found"\} 1$/m);
    expect(metrics).toMatch(/^ispmon_billing_portal_session_lookups_total\{outcome="none"\} 1$/m);
    expect(metrics).toMatch(/^ispmon_billing_portal_session_lookups_total\{outcome="router_failed"\} 2$/m);
    expect(metrics).not.toContain(nas.password);
  });

  chromiumIt('subscriber journey in Chromium')(
    'lets the subscriber pay in Chromium behind the router, and billing restores them there',
    async () => {
      let browser: Browser | undefined;
      let proxy: SubscriberProxy | undefined;
      try {
        proxy = await startSubscriberProxy(nas.model, { src: DEWI, internet, dnsServer: '8.8.8.8' });
        browser = await launchChromium([
          `--proxy-server=${proxy.url}`,
          // Chromium sends loopback directly unless told not to: all of it goes through the router.
          '--proxy-bypass-list=<-loopback>',
        ]);
        const page = await phonePage(browser, { 'accept-language': 'id-ID,id;q=0.9' });
        const text = (sel: string) => textOf(page, sel);

        // The subscriber types a news site; the router's dst-nat takes them to the page instead.
        await page.goto('http://news.example/', { waitUntil: 'load' });
        expect(page.url()).toBe('http://news.example/portal');
        expect(await text('#heading')).toBe('Layanan internet Anda sedang diisolir');
        expect(await text('#customer')).toBe('Dewi Lestari');
        expect(await text(`[data-invoice="${subs.dewi.invoice}"] .amount`)).toBe('Rp 150.000');
        expect(await text('#total')).toBe('Rp 150.000');
        await screenshot(page, join(artefacts, 'portal-behind-router-suspended.png'));

        // Pay: Snap on the stand-in (an allowed host), settle, back to the portal's public URL.
        await follow(page, `[data-invoice="${subs.dewi.invoice}"] button`);
        expect(page.url()).toMatch(new RegExp(`^${t.midtrans.url}/snap/v4/redirection/`));
        await follow(page, 'button[type=submit]');
        expect(await text('#notification')).toContain('"outcome":"paid"');
        await follow(page, '#finish');
        expect(page.url()).toMatch(/^http:\/\/portal\.netkita\.test:\d+\/portal\?lang=id&order_id=/);
        expect(await text('#heading')).toBe('Layanan Anda sudah aktif kembali');
        await screenshot(page, join(artefacts, 'portal-behind-router-restored.png'));
        // Every request the browser made went through the router; none was dropped.
        expect(proxy.log.filter((l) => l.outcome !== 'answered')).toEqual([]);
        expect(proxy.log.some((l) => l.url.startsWith(t.midtrans.url))).toBe(true);
      } finally {
        await browser?.close();
        await proxy?.close();
      }

      // Restored on the router: the secret back on its plan's profile, out of the isolir list.
      expect((await t.call('GET', `/api/v1/subscriptions/${subs.dewi.id}`)).body.status).toBe('active');
      await t.runtime.syncNow();
      expect(nas.secrets().find((s) => s.name === 'dewi')?.profile).toBe('home-10M');
      await session('dewi', 'home-10M');
      expect(await isolirList()).toEqual([RUDI]);
      const after = await browse(DEWI, '/berita/hari-ini');
      expect(after.outcome === 'answered' && after.body).toBe('news host=news.example');
      await noticeRound();
      expect(reached('paid')).toEqual(once);
      expect(reached('restored')).toEqual(once);
      // Rudi, still unpaid, is still sent to the page.
      const rudi = await browse(RUDI, '/berita/hari-ini');
      expect(rudi.outcome === 'answered' && rudi.headers.location).toBe('/portal');
    },
    180_000,
  );

  it('changes nothing when the cycle and the sync run again', async () => {
    const writes = () =>
      [...nas.model.commandsReceived]
        .filter(([path]) => /\/(add|set|remove|enable|disable)$/.test(path))
        .reduce((n, [, c]) => n + c, 0);
    const before = writes();
    const cycle = await t.call('POST', '/api/v1/billing-cycle/run', {});
    expect(cycle.body).toMatchObject({
      invoicesIssued: { count: 0 },
      invoicesOverdue: { count: 0 },
      subscriptionsSuspended: { count: 0 },
    });
    expect(await t.runtime.syncNow()).toEqual({ synced: 0, failed: 0 });
    expect(writes()).toBe(before);
    const sent = smtp.mails.length + messages.received.length;
    expect((await noticeRound()).queued).toEqual({});
    expect(smtp.mails.length + messages.received.length).toBe(sent);
    for (const kind of ['reminder', 'overdue', 'suspended'] as const) expect(reached(kind)).toEqual(once);
  });
});
