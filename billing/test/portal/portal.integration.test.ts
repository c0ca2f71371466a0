// The isolation page on real PostgreSQL, the lab's Midtrans stand-in and Debian's Chromium: a suspended
// subscriber opens it from their address, sees their overdue invoice, pays through the stand-in's Snap
// page (which settles and sends the HTTP notification) and is told the service is restored. Other
// addresses, spoofed headers, forged and expired links see nothing of them. Requests from loopback are
// bound to 127.0.5.x source addresses (Linux routes all of 127/8 to lo); Chromium comes through the
// trusted-proxy path (127.0.0.1 with X-Forwarded-For). Screenshots are kept in var/test-artifacts/portal/
// at the repository root (or $TEST_ARTIFACTS_DIR/portal).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'puppeteer-core';
import { findBinary, freePort, startPostgres, type PostgresServer } from '@ispmon/testkit';
import { portalLink, type PortalLinkSettings } from '../../src/portal/link.js';
import { portalExtensions, portalSettings } from '../../src/portal/wiring.js';
import { chromiumIt, follow, launchChromium, phonePage, screenshot, textOf } from '../chromium.js';
import { createPlan, HOME10, registerRouter, startHarness, type Harness } from '../harness.js';

const artefacts = join(
  process.env.TEST_ARTIFACTS_DIR ?? fileURLToPath(new URL('../../../var/test-artifacts', import.meta.url)),
  'portal',
);
const SECRET = 'portal-test-secret-0123456789abcdef';
const RATE = 20;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('the isolation page', () => {
  let pg: PostgresServer;
  let t: Harness;
  let links: PortalLinkSettings;
  const subs: Record<'budi' | 'siti' | 'andi', { subscription: number; invoice?: number; number?: string }> =
    {
      budi: { subscription: 0 },
      siti: { subscription: 0 },
      andi: { subscription: 0 },
    };
  const db = (sql: string, params: unknown[] = []) =>
    pg.query<Record<string, unknown>>(sql, params, String(t.runtime.orm.config.get('dbName')));

  /** One HTTP request to billing from a chosen loopback source address. */
  const from = (
    source: string,
    method: string,
    path: string,
    o: { headers?: Record<string, string>; form?: Record<string, string> } = {},
  ): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const url = new URL(path, t.runtime.url);
      const body = o.form ? new URLSearchParams(o.form).toString() : undefined;
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          method,
          localAddress: source,
          headers: {
            ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
            ...o.headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const ordersOf = async (invoice: number) =>
    Number(
      (await db('select count(*)::int as n from payment_orders where invoice_id = $1', [invoice]))[0]?.n,
    );

  beforeAll(async () => {
    pg = await startPostgres();
    const port = await freePort();
    const env = {
      PORTAL_SECRET: SECRET,
      PORTAL_PUBLIC_URL: `http://127.0.0.1:${port}`,
      PORTAL_TRUSTED_PROXIES: '127.0.0.1',
      PORTAL_RATE_LIMIT_PER_MINUTE: String(RATE),
      SLA_PROVIDER_NAME: 'NetKita',
    };
    links = portalSettings(env).links as PortalLinkSettings;
    t = await startHarness(pg, { port, extensions: portalExtensions(env) });
    const routerId = await registerRouter(t, 'core-jkt-1', {
      host: '127.0.0.1',
      port: 8728,
      username: 'admin',
      password: 'lab-password',
    });
    const planId = await createPlan(t, HOME10);
    const people = [
      ['budi', 'Budi Santoso', '10.20.0.11', true],
      ['siti', 'Siti Rahayu', '127.0.5.12', true],
      ['andi', 'Andi Wijaya', '127.0.5.13', false],
    ] as const;
    for (const [key, name, address, invoiced] of people) {
      const c = await t.call('POST', '/api/v1/customers', { code: `C-${key}`, name });
      expect(c.status).toBe(201);
      const s = await t.call('POST', '/api/v1/subscriptions', {
        customer_id: c.body.id,
        plan_id: planId,
        router_id: routerId,
        ppp_username: key,
        remote_address: address,
        first_invoice: invoiced,
      });
      expect(s.status).toBe(201);
      subs[key].subscription = s.body.id as number;
    }
    // First invoices fall due after 3 days, overdue after 3 more: the cycle suspends Budi and Siti.
    t.clock.now = new Date('2026-03-09T03:00:00Z');
    const cycle = await t.call('POST', '/api/v1/billing-cycle/run', {});
    expect(cycle.status).toBe(200);
    expect(cycle.body.subscriptionsSuspended.count).toBe(2);
    for (const key of ['budi', 'siti'] as const) {
      const inv = await t.call('GET', `/api/v1/invoices?subscription_id=${subs[key].subscription}`);
      expect(inv.body.items).toHaveLength(1);
      expect(inv.body.items[0]).toMatchObject({ status: 'overdue', amount_idr: 150000 });
      subs[key].invoice = inv.body.items[0].id as number;
      subs[key].number = inv.body.items[0].number as string;
    }
    mkdirSync(artefacts, { recursive: true });
  }, 90_000);

  afterAll(async () => {
    await t?.stop();
    await pg?.stop();
  });

  it('shows a suspended subscriber, from their own address, their name, plan, invoice and amount due', async () => {
    const r = await from('127.0.5.12', 'GET', '/portal');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.body).toContain('<html lang="id">');
    expect(r.body).toContain('Layanan internet Anda sedang diisolir');
    expect(r.body).toContain('Siti Rahayu');
    expect(r.body).toContain('Home 10 Mbps');
    expect(r.body).toContain(subs.siti.number);
    expect(r.body).toMatch(/id="total">Rp 150\.000</);
    expect(r.body).not.toContain('Budi');
    const en = await from('127.0.5.12', 'GET', '/portal', {
      headers: { 'accept-language': 'en-US,en;q=0.9' },
    });
    expect(en.body).toContain('Your internet service is suspended');
    expect(en.body).toContain('Total due');
  });

  it("sends a browser's request for any other site (the walled garden's dst-nat) to the page", async () => {
    const html = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    const landed = await from('127.0.5.12', 'GET', '/berita/2026/11/30/index.html', {
      headers: { host: 'www.detik.com', accept: html },
    });
    expect(landed.status).toBe(302);
    expect(landed.headers.location).toBe('/portal');
    const api = await from('127.0.5.12', 'GET', '/api/v2/nothing', { headers: { accept: html } });
    expect(api.status).toBe(404);
    const json = await from('127.0.5.12', 'GET', '/nothing', { headers: { accept: 'application/json' } });
    expect(json.status).toBe(404);
    expect(JSON.parse(json.body)).toEqual({ error: 'no such endpoint; see /openapi.json' });
  });

  it('answers an unknown address and a subscriber in good standing with the same neutral page', async () => {
    const active = await from('127.0.5.13', 'GET', '/portal');
    const unknown = await from('127.0.5.99', 'GET', '/portal');
    expect(active.status).toBe(200);
    expect(unknown.status).toBe(200);
    expect(active.body).toBe(unknown.body);
    expect(active.body).toContain('Tidak ada tagihan untuk ditampilkan');
    for (const name of ['Andi', 'Siti', 'Budi', 'Rp ']) expect(active.body).not.toContain(name);
  });

  it('does not believe X-Forwarded-For from an address that is not a trusted proxy', async () => {
    const spoofed = await from('127.0.5.13', 'GET', '/portal', {
      headers: { 'x-forwarded-for': '127.0.5.12' },
    });
    expect(spoofed.status).toBe(200);
    expect(spoofed.body).not.toContain('Siti');
    expect(spoofed.body).toContain('Tidak ada tagihan untuk ditampilkan');
  });

  it("refuses to start a payment for another subscriber's invoice", async () => {
    const invoice = subs.siti.invoice as number;
    const before = await ordersOf(invoice);
    const r = await from('127.0.5.13', 'POST', '/portal/pay', { form: { invoice_id: String(invoice) } });
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/portal?lang=id');
    const junk = await from('127.0.5.12', 'POST', '/portal/pay', { form: { invoice_id: '1; drop table' } });
    expect(junk.status).toBe(303);
    expect(await ordersOf(invoice)).toBe(before);
  });

  it('opens through a signed link from anywhere, and refuses a forged or expired one with one neutral page', async () => {
    const now = t.clock.now;
    const good = new URL(portalLink(links, subs.siti.subscription, now).url);
    const r = await from('127.0.5.99', 'GET', good.pathname);
    expect(r.status).toBe(200);
    expect(r.body).toContain('Siti Rahayu');
    expect(r.body).toContain(`action="${good.pathname}/pay"`);

    // Siti's token with Budi's subscription id: the signature no longer matches.
    const [, expiry, mac] = good.pathname.split('/').pop()?.split('.') ?? [];
    const forged = await from('127.0.5.99', 'GET', `/portal/link/${subs.budi.subscription}.${expiry}.${mac}`);
    const expired = await from(
      '127.0.5.99',
      'GET',
      new URL(
        portalLink(links, subs.siti.subscription, new Date(now.getTime() - links.ttlSeconds * 1000 - 1000))
          .url,
      ).pathname,
    );
    const garbage = await from('127.0.5.99', 'GET', '/portal/link/not-a-token');
    for (const refused of [forged, expired, garbage]) {
      expect(refused.status).toBe(403);
      expect(refused.body).toContain('Tautan tidak berlaku');
      for (const name of ['Siti', 'Budi', 'Rp ']) expect(refused.body).not.toContain(name);
    }
    // One page for every refusal; only the language switch names the path that was asked for.
    const neutral = (html: string) => html.replace(/\/portal\/link\/[^?"]*/g, '/portal/link/…');
    expect(neutral(forged.body)).toBe(neutral(expired.body));
    expect(neutral(garbage.body)).toBe(neutral(expired.body));
    const payForged = await from(
      '127.0.5.99',
      'POST',
      `/portal/link/${subs.budi.subscription}.${expiry}.${mac}/pay`,
      {
        form: { invoice_id: String(subs.budi.invoice) },
      },
    );
    expect(payForged.status).toBe(303);
    expect(await ordersOf(subs.budi.invoice as number)).toBe(0);
  });

  it('rate limits each source address on its own', async () => {
    const answers: number[] = [];
    for (let i = 0; i <= RATE; i++) answers.push((await from('127.0.5.77', 'GET', '/portal')).status);
    expect(answers.slice(0, RATE).every((s) => s === 200)).toBe(true);
    expect(answers[RATE]).toBe(429);
    const limited = await from('127.0.5.77', 'GET', '/portal');
    expect(limited.body).toContain('Terlalu banyak permintaan');
    expect((await from('127.0.5.78', 'GET', '/portal')).status).toBe(200);
  });

  chromiumIt('isolation page browser journey')(
    'lets a suspended subscriber pay in Chromium and then says the service is restored',
    async () => {
      let browser: Browser | undefined;
      try {
        browser = await launchChromium();
        // Billing behind a proxy at 127.0.0.1 (trusted): the proxy says the subscriber is 10.20.0.11.
        // An Indonesian phone: Accept-Language id.
        const page = await phonePage(browser, {
          'x-forwarded-for': '10.20.0.11',
          'accept-language': 'id-ID,id;q=0.9',
        });
        await page.goto(`${t.runtime.url}/portal`, { waitUntil: 'load' });
        const text = (sel: string) => textOf(page, sel);
        expect(await text('#heading')).toBe('Layanan internet Anda sedang diisolir');
        expect(await text('#customer')).toBe('Budi Santoso');
        expect(await text('#plan')).toBe('Home 10 Mbps');
        expect(await text(`[data-invoice="${subs.budi.number}"] .amount`)).toBe('Rp 150.000');
        expect(await text('#total')).toBe('Rp 150.000');
        // Readable on a phone: nothing wider than the screen.
        expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
        await screenshot(page, join(artefacts, 'isolation-page-suspended.png'));

        await follow(page, `[data-invoice="${subs.budi.number}"] button`);
        expect(page.url()).toMatch(new RegExp(`^${t.midtrans.url}/snap/v4/redirection/`));
        const order = t.midtrans
          .transactions()
          .find((x) => x.order_id.startsWith(subs.budi.number as string));
        expect(order).toMatchObject({ gross_amount: '150000.00', transaction_status: 'pending' });
        expect(order?.request.callbacks).toEqual({ finish: `${links.publicUrl}/portal?lang=id` });

        // The stand-in's Pay settles the transaction and POSTs the notification to billing.
        await follow(page, 'button[type=submit]');
        expect(await text('#notification')).toContain('HTTP 200');
        expect(await text('#notification')).toContain('"outcome":"paid"');

        // Snap's "back to merchant" goes to the finish URL billing gave it: the page again.
        await follow(page, '#finish');
        expect(page.url()).toMatch(new RegExp(`^${t.runtime.url}/portal\\?lang=id&order_id=`));
        expect(await text('#heading')).toBe('Layanan Anda sudah aktif kembali');
        expect(await text('#customer')).toBe('Budi Santoso');
        await follow(page, '#switch-lang');
        expect(await text('#heading')).toBe('Your service is restored');
        await screenshot(page, join(artefacts, 'isolation-page-restored.png'));
      } finally {
        await browser?.close();
      }
      const sub = await t.call('GET', `/api/v1/subscriptions/${subs.budi.subscription}`);
      expect(sub.body.status).toBe('active');
      // Siti, still suspended, saw nothing change.
      expect((await from('127.0.5.12', 'GET', '/portal')).body).toContain('Siti Rahayu');
      const metrics = await (await fetch(`${t.runtime.url}/metrics`)).text();
      expect(metrics).toMatch(/^ispmon_billing_portal_payments_started_total\{outcome="started"\} 1$/m);
      expect(metrics).toMatch(/^ispmon_billing_portal_page_views_total\{outcome="restored"\} [1-9]/m);
      expect(metrics).toMatch(/^ispmon_billing_portal_page_views_total\{outcome="rate_limited"\} [1-9]/m);
      expect(metrics).not.toContain(SECRET);
      expect(
        execFileSync(findBinary('promtool', 'prometheus'), ['check', 'metrics'], {
          input: metrics,
          encoding: 'utf8',
        }),
      ).toBe('');
    },
    180_000,
  );
});
