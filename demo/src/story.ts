// The story, run against a running demo (`npm run demo:story`): every step printed with the time since
// the start, each waiting for what it claims instead of sleeping.
//   A  router down → RouterDown in Prometheus, Alertmanager, the alert router's history, the console
//      channel's notification (text and link) → acknowledged through the API → router back → resolved
//   B  the subscriber's side: demo-budi's invoice made overdue → notices on his phone (SMS, WhatsApp:
//      invoice, overdue, suspended with the isolation page's signed link) → the billing cycle suspends →
//      the PPP secret on the simulated router moves to the isolation profile → his web request, through
//      the router's walled garden, lands on the isolation page (invoice and amount) → Pay there → the
//      Midtrans stand-in's Snap page (allowed by the garden) → paid → restored → paid/restored notices
//   C  the SLA PDF of a client link for the previous month, saved and its path printed
// A waits minutes for the alert's `for: 2m`; B and C run meanwhile. Exit code 0 only if every step held.
//   node demo/dist/story.js [--work DIR] [--out DIR]
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { RouterOsClient } from '@ispmon/routeros';
import { waitFor } from '@ispmon/local-servers';
import type { ConsoleNotification } from './console-channel.js';
import type { PhoneMessage } from './subscriber-phone.js';
import { readDemoState, type DemoState } from './state.js';

const root = resolve(import.meta.dirname, '..', '..');
const t0 = Date.now();
const say = (part: string, text: string): void =>
  console.log(`[+${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${part}  ${text}`);

async function http<T>(
  method: string,
  url: string,
  o: { token?: string; body?: unknown; expect?: number } = {},
): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
      ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return (text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T;
}

async function promQuery(s: DemoState, q: string): Promise<Array<{ metric: Record<string, string> }>> {
  const r = await http<{ data: { result: Array<{ metric: Record<string, string> }> } }>(
    'GET',
    `${s.prometheus}/api/v1/query?query=${encodeURIComponent(q)}`,
  );
  return r.data.result;
}

/** Rows the router that holds demo-budi prints over its API. */
async function onRouter(
  s: DemoState,
  menu: string,
  queries: string[],
): Promise<Array<Record<string, string>>> {
  const r = s.routers.find((x) => x.name === s.subscription.router);
  if (!r) throw new Error(`router ${s.subscription.router} is not in the demo`);
  const client = await RouterOsClient.connect({
    host: r.host,
    port: r.port,
    username: r.username,
    password: r.password,
  });
  try {
    return (await client.print(menu, { queries })) as Array<Record<string, string>>;
  } finally {
    client.close();
  }
}

/** The PPP secret's profile and disabled flag as the simulated router reports them over its API. */
async function secretOnRouter(s: DemoState): Promise<{ profile: string; disabled: string }> {
  const [row] = await onRouter(s, '/ppp/secret', [`?name=${s.subscription.pppUsername}`]);
  if (!row) throw new Error(`no PPP secret ${s.subscription.pppUsername} on ${s.subscription.router}`);
  return { profile: row.profile ?? '', disabled: row.disabled ?? '' };
}

/** The walled garden as the router prints it: the isolir list, billing's dst-nat rule and filter rules. */
async function gardenOnRouter(s: DemoState): Promise<{ isolir: string[]; nat: string; filter: string }> {
  const tag = 'ispmon:walled-garden';
  const isolir = (await onRouter(s, '/ip/firewall/address-list', ['?list=isolir'])).map(
    (r) => r.address ?? '',
  );
  const nat = (await onRouter(s, '/ip/firewall/nat', [])).filter((r) => r.comment?.startsWith(tag));
  const filter = (await onRouter(s, '/ip/firewall/filter', [])).filter((r) => r.comment?.startsWith(tag));
  return {
    isolir,
    nat: nat
      .map(
        (r) =>
          `nat ${r.action ?? ''} ${r.protocol ?? ''}/${r['dst-port'] ?? ''} from list ${r['src-address-list'] ?? ''} to ${r['to-addresses'] ?? ''}:${r['to-ports'] ?? ''}`,
      )
      .join(', '),
    filter: filter.map((r) => `${r.action ?? ''} (${(r.comment ?? '').slice(tag.length + 1)})`).join(', '),
  };
}

const minutes = (n: number): number => n * 60_000;

async function routerStory(s: DemoState): Promise<void> {
  const P = 'A router ';
  const router = s.routers[s.routers.length - 1]?.name ?? '';
  await http('POST', `${s.labControl}/routers/${router}/unresponsive`, { body: { mode: 'refuse' } });
  say(
    P,
    `${router} refuses its API (lab control: unresponsive refuse); RouterDown needs 2 minutes of mikrotik_up == 0`,
  );
  try {
    await waitFor(
      'RouterDown firing in Prometheus',
      async () =>
        (await promQuery(s, `ALERTS{alertname="RouterDown",router="${router}",alertstate="firing"}`)).length
          ? true
          : undefined,
      { timeoutMs: minutes(4), intervalMs: 1_000 },
    );
    say(P, `Prometheus: ALERTS{alertname="RouterDown",router="${router}"} firing`);
    await waitFor(
      'RouterDown in Alertmanager',
      async () => {
        const alerts = await http<Array<{ labels: Record<string, string>; status: { state: string } }>>(
          'GET',
          `${s.alertmanager}/api/v2/alerts?filter=${encodeURIComponent(`alertname="RouterDown"`)}`,
        );
        return alerts.some((a) => a.labels.router === router && a.status.state === 'active')
          ? true
          : undefined;
      },
      { timeoutMs: minutes(1), intervalMs: 500 },
    );
    say(P, 'Alertmanager: RouterDown active, sent to the alert router (webhook v4)');
    interface Incident {
      id: string;
      status: string;
      alertname: string;
      labels: Record<string, string>;
      acknowledged_by?: string | null;
    }
    const incident = await waitFor(
      'the incident in the alert router',
      async () => {
        const page = await http<{ items: Incident[] }>(
          'GET',
          `${s.alertRouter.url}/api/v1/incidents?label=${encodeURIComponent(`router=${router}`)}`,
          { token: s.alertRouter.token },
        );
        return page.items.find((i) => i.alertname === 'RouterDown');
      },
      { timeoutMs: minutes(1), intervalMs: 500 },
    );
    say(
      P,
      `alert router history: incident ${incident.id} ${incident.alertname} router=${router} status=${incident.status}`,
    );
    const note = await waitFor(
      'the console notification',
      async () =>
        (await http<ConsoleNotification[]>('GET', `${s.console}/notifications`)).find(
          (n) => n.incident.id === incident.id && n.kind === 'firing',
        ),
      { timeoutMs: minutes(1), intervalMs: 500 },
    );
    say(P, `notification delivered: ${note.line}`);
    const linked = await http<{ incident: Incident }>('GET', note.incident.url, {
      token: s.alertRouter.token,
    });
    say(
      P,
      `its link ${note.incident.url} answers: incident ${linked.incident.id} (${linked.incident.status})`,
    );
    await http('POST', `${s.alertRouter.url}/api/v1/incidents/${incident.id}/ack`, {
      token: s.alertRouter.token,
      body: { note: 'demo story: looking at it' },
    });
    const acked = await http<{ incident: Incident }>(
      'GET',
      `${s.alertRouter.url}/api/v1/incidents/${incident.id}`,
      {
        token: s.alertRouter.token,
      },
    );
    say(
      P,
      `acknowledged through the API: incident ${incident.id} acknowledged_by=${acked.incident.acknowledged_by ?? ''} status=${acked.incident.status}`,
    );
  } finally {
    await http('POST', `${s.labControl}/routers/${router}/unresponsive`, { body: { mode: false } });
    say(P, `${router} answers again (unresponsive false)`);
  }
  await waitFor(
    'RouterDown gone from Prometheus',
    async () =>
      (await promQuery(s, `ALERTS{alertname="RouterDown",router="${router}"}`)).length ? undefined : true,
    { timeoutMs: minutes(2), intervalMs: 1_000 },
  );
  say(P, 'Prometheus: RouterDown no longer firing');
  const resolved = await waitFor(
    'the incident resolved in the alert router',
    async () => {
      const page = await http<{ items: Array<{ id: string; status: string; alertname: string }> }>(
        'GET',
        `${s.alertRouter.url}/api/v1/incidents?status=resolved&label=${encodeURIComponent(`router=${router}`)}`,
        { token: s.alertRouter.token },
      );
      return page.items.find((i) => i.alertname === 'RouterDown');
    },
    { timeoutMs: minutes(3), intervalMs: 1_000 },
  );
  say(P, `alert router history: incident ${resolved.id} status=${resolved.status}`);
}

/** An answer as the subscriber's browser gets it (redirects not followed). */
interface Answer {
  status: number;
  location: string;
  body: string;
}

/** One request from demo-budi's browser: through the lab's subscriber proxy, so through the router's firewall. */
function viaRouter(s: DemoState, url: string, form?: Record<string, string>): Promise<Answer> {
  const proxy = new URL(s.subscriber.proxy);
  const body = form ? new URLSearchParams(form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const r = request(
      {
        host: proxy.hostname,
        port: proxy.port,
        method: form ? 'POST' : 'GET',
        path: url, // a proxy request names the absolute URL
        agent: false,
        timeout: 30_000,
        headers: {
          host: new URL(url).host,
          accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8',
          'accept-language': 'en',
          ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            location: res.headers.location ?? '',
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`${url} through the router: no answer in 30 s`)));
    r.on('error', reject);
    r.end(body);
  });
}

const SITE_HEADING = /<h1>([^<]*today's news)<\/h1>/;
const unescape = (html: string): string =>
  html
    .replaceAll('&amp;', '&')
    .replaceAll('&#34;', '"')
    .replaceAll('&quot;', '"')
    .replaceAll('&#x27;', "'")
    .replaceAll('&#39;', "'")
    .replaceAll('&#x3D;', '=');
const field = (html: string, re: RegExp): string => unescape(re.exec(html)?.[1]?.trim() ?? '');

/** What the isolation page shows: heading, customer, each invoice with its amount, the total, the pay form. */
function portalPage(html: string): {
  heading: string;
  customer: string;
  invoices: Array<{ number: string; amount: string; id: string }>;
  total: string;
  payAction: string;
} {
  const invoices = [
    ...html.matchAll(
      /data-invoice="([^"]+)"[\s\S]*?class="amount">([^<]+)<[\s\S]*?name="invoice_id" value="(\d+)"/g,
    ),
  ].map((m) => ({ number: m[1] ?? '', amount: unescape(m[2] ?? ''), id: m[3] ?? '' }));
  return {
    heading: field(html, /<h1 id="heading"[^>]*>([^<]+)</),
    customer: field(html, /<dd id="customer">([^<]+)</),
    invoices,
    total: field(html, /id="total">([^<]+)</),
    payAction: field(html, /<form method="post" action="([^"]+)"/),
  };
}

/**
 * A request demo-budi's browser sends to a site while isolated: the walled garden's dst-nat takes it to
 * billing. While his session redials (billing kicks it onto the isolation profile; the lab's sessions also
 * churn) his address is off the isolir list for a moment and the site answers: asked again until billing does.
 */
async function throughGarden(s: DemoState, path: string, form?: Record<string, string>): Promise<Answer> {
  return waitFor(
    `${s.subscriber.site}${path.slice(1)} answered by billing through the walled garden`,
    async () => {
      const a = await viaRouter(s, new URL(path, s.subscriber.site).toString(), form);
      return SITE_HEADING.test(a.body) ? undefined : a;
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
}

/** Waits until each notice (told by a phrase of its text) reached demo-budi's phone on SMS and WhatsApp; prints each once. */
async function noticesReached(s: DemoState, P: string, phrases: string[]): Promise<PhoneMessage[]> {
  const found = await waitFor(
    `notices with ${phrases.map((p) => `"${p}"`).join(', ')} on SMS and WhatsApp`,
    async () => {
      const inbox = await http<PhoneMessage[]>('GET', s.subscriber.inbox);
      const each = phrases.map((p) => inbox.filter((m) => m.text.includes(p)));
      return each.every((ms) => ['sms', 'whatsapp'].every((c) => ms.some((m) => m.channel === c)))
        ? each
        : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  // Each channel's message carries its own signed link (the expiry second is taken when the message is
  // rendered, so SMS and WhatsApp can differ by a second): the same notice is told apart without it, and
  // printed once with the first message's link.
  const unsigned = (text: string): string => text.replace(/\/portal\/link\/\S+/g, '/portal/link/…');
  for (const ms of found) {
    const texts = [...new Set(ms.map((m) => unsigned(m.text)))];
    for (const text of texts) {
      const same = ms.filter((m) => unsigned(m.text) === text);
      say(
        P,
        `notice to ${same[0]?.to ?? '?'} by ${same.map((m) => m.channel).join(' + ')}: ${same[0]?.text}`,
      );
    }
  }
  return found.flat();
}

async function billingStory(s: DemoState): Promise<void> {
  const P = 'B billing';
  const api = `${s.billing.url}/api/v1`;
  const token = s.billing.token;
  const who = `${s.subscription.pppUsername} (PPP ${s.subscriber.address} on ${s.subscription.router})`;
  const before = await viaRouter(s, s.subscriber.site);
  say(
    P,
    `${who} opens ${s.subscriber.site} through the router: HTTP ${before.status} "${field(before.body, SITE_HEADING)}"`,
  );
  const sub = await http<{ id: number; customer_id: number; status: string }>(
    'GET',
    `${api}/subscriptions/${s.subscription.id}`,
    { token },
  );
  const invoice = await http<{ id: number; number: string; status: string; amount_idr: string }>(
    'POST',
    `${api}/invoices`,
    {
      token,
      body: {
        customer_id: sub.customer_id,
        subscription_id: sub.id,
        description: 'Home 10 Mbps, last month (demo story: due 5 days ago)',
        amount_idr: '150000',
        due_at: new Date(Date.now() - 5 * 86_400_000).toISOString(),
      },
    },
  );
  say(
    P,
    `invoice ${invoice.number} Rp ${invoice.amount_idr} for subscription ${sub.id}, due 5 days ago (grace 3 days)`,
  );
  const cycle = await http<Record<string, unknown>>('POST', `${api}/billing-cycle/run`, { token, body: {} });
  say(P, `billing cycle: ${JSON.stringify(cycle)}`);
  const suspended = await http<{ status: string; suspended_reason?: string }>(
    'GET',
    `${api}/subscriptions/${sub.id}`,
    { token },
  );
  say(P, `subscription ${sub.id} status=${suspended.status} (${suspended.suspended_reason ?? ''})`);
  const told = await noticesReached(s, P, [
    `Invoice ${invoice.number} from`,
    `Invoice ${invoice.number} is overdue`,
    'service is suspended',
  ]);
  const link = /https?:\/\/\S+\/portal\/link\/[\w.-]+/.exec(
    told.find((m) => m.text.includes('service is suspended'))?.text ?? '',
  )?.[0];
  if (!link) throw new Error('the suspended notice carries no link to the isolation page');
  const isolated = await waitFor(
    'the secret on the isolation profile',
    async () => {
      await http('POST', `${api}/sync/run`, { token, body: {} });
      const secret = await secretOnRouter(s);
      return secret.profile === 'isolir' ? secret : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
  say(
    P,
    `router ${s.subscription.router}: PPP secret ${s.subscription.pppUsername} profile=${isolated.profile} (isolated)`,
  );
  const garden = await waitFor(
    `${s.subscriber.address} on the isolir address list`,
    async () => {
      const g = await gardenOnRouter(s);
      return g.isolir.includes(s.subscriber.address) ? g : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  say(
    P,
    `router ${s.subscription.router}: address list isolir holds ${s.subscriber.address} (his session redialled on profile isolir); walled garden: ${garden.nat}; filter ${garden.filter}`,
  );
  const landing = await throughGarden(s, '/today');
  say(
    P,
    `${who} opens ${s.subscriber.site}today: HTTP ${landing.status} Location: ${landing.location} (dst-nat'ed to billing)`,
  );
  const shown = await throughGarden(s, landing.location);
  const page = portalPage(shown.body);
  const line = page.invoices.find((i) => i.number === invoice.number);
  if (shown.status !== 200 || !line)
    throw new Error(
      `the isolation page (HTTP ${shown.status}) does not show ${invoice.number}: ${JSON.stringify(page)}`,
    );
  say(
    P,
    `the isolation page: "${page.heading}"; customer ${page.customer}; ${page.invoices.map((i) => `invoice ${i.number} ${i.amount}`).join(', ')}; total ${page.total}`,
  );
  const signed = await http<string>('GET', `${link}?lang=en`);
  const signedPage = portalPage(signed);
  say(
    P,
    `the suspended notice's signed link, opened from anywhere: "${signedPage.heading}"; customer ${signedPage.customer}; ${signedPage.invoices.map((i) => `invoice ${i.number} ${i.amount}`).join(', ')}`,
  );
  const pay = await throughGarden(s, page.payAction, { invoice_id: line.id, lang: 'en' });
  if (pay.status !== 303 || !pay.location.startsWith(`http://${s.subscriber.paymentHost}:`))
    throw new Error(`pressing Pay on the page: HTTP ${pay.status} ${pay.location} ${pay.body.slice(0, 300)}`);
  say(
    P,
    `pressed Pay ${line.amount} on the page: HTTP 303 to the Midtrans stand-in's Snap page ${pay.location}`,
  );
  const snapPage = await viaRouter(s, pay.location);
  const action = /<form[^>]*method="post"[^>]*action="([^"]+)"/i.exec(snapPage.body)?.[1];
  if (snapPage.status !== 200 || !action || !/>\s*Pay\s*</i.test(snapPage.body))
    throw new Error(`the Snap page at ${pay.location} (HTTP ${snapPage.status}) has no Pay button`);
  say(
    P,
    `the Snap page answers through the router (${s.subscriber.paymentHost} is in the walled garden): HTTP 200 with a Pay button`,
  );
  const paid = await viaRouter(s, new URL(action, pay.location).toString(), { payment_type: 'qris' });
  if (paid.status !== 200) throw new Error(`pressing Pay: HTTP ${paid.status} ${paid.body.slice(0, 300)}`);
  const heading = field(paid.body, /<h1>([^<]+)<\/h1>/);
  const delivery = field(paid.body, /<p id="notification">([^<]+)</);
  say(P, `pressed Pay (QRIS): ${heading}; ${delivery}`);
  const finish = field(paid.body, /<a id="finish" href="([^"]+)"/);
  if (!finish) throw new Error('the Snap page has no link back to the merchant');
  const back = await viaRouter(s, finish);
  say(P, `back to the merchant (${finish.replace(/\?.*/, '?…')}): "${portalPage(back.body).heading}"`);
  const payment = await waitFor(
    'the payment row',
    async () =>
      (
        await http<{ items: Array<Record<string, unknown>> }>(
          'GET',
          `${api}/payments?invoice_id=${invoice.id}`,
          { token },
        )
      ).items[0],
    { timeoutMs: 30_000, intervalMs: 500 },
  );
  say(
    P,
    `payment row: id ${String(payment.id)} invoice ${String(payment.invoice_id)} method=${String(payment.method)} Rp ${String(payment.amount_idr)} order ${String(payment.provider_order_id)}`,
  );
  const restored = await waitFor(
    'the secret back on its plan profile',
    async () => {
      await http('POST', `${api}/sync/run`, { token, body: {} });
      const secret = await secretOnRouter(s);
      return secret.profile === 'home-10M' ? secret : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
  const after = await http<{ status: string }>('GET', `${api}/subscriptions/${sub.id}`, { token });
  say(P, `restored: subscription ${sub.id} status=${after.status}, PPP secret profile=${restored.profile}`);
  await noticesReached(s, P, [`Payment received for invoice ${invoice.number}`, 'service is active again']);
  const free = await waitFor(
    `${s.subscriber.site} answered by the site again`,
    async () => {
      const a = await viaRouter(s, s.subscriber.site);
      return SITE_HEADING.test(a.body) ? a : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
  say(P, `${who} opens ${s.subscriber.site} again: HTTP ${free.status} "${field(free.body, SITE_HEADING)}"`);
}

async function slaStory(s: DemoState, out: string): Promise<void> {
  const P = 'C SLA    ';
  const link = s.links[0];
  if (!link) throw new Error('the demo has no client link');
  const now = new Date();
  const prev = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  const month = `${prev.getUTCFullYear()}-${String(prev.getUTCMonth() + 1).padStart(2, '0')}`;
  const report = await http<{
    id: number;
    availability_percent?: number | null;
    breached?: boolean;
    summary?: unknown;
  }>('POST', `${s.billing.url}/api/v1/links/${link.id}/reports`, {
    token: s.billing.token,
    body: { month, email: false, force: true },
  });
  const res = await fetch(`${s.billing.url}/api/v1/reports/${report.id}/pdf`, {
    headers: { authorization: `Bearer ${s.billing.token}` },
  });
  if (!res.ok) throw new Error(`SLA PDF: HTTP ${res.status}`);
  const pdf = Buffer.from(await res.arrayBuffer());
  if (pdf.subarray(0, 5).toString() !== '%PDF-') throw new Error('SLA PDF: the answer is not a PDF');
  mkdirSync(out, { recursive: true });
  const path = join(out, `sla-${link.code}-${month}.pdf`);
  writeFileSync(path, pdf);
  say(
    P,
    `SLA report ${report.id} for ${link.code}, ${month}: availability ${report.availability_percent ?? 'no data'} %, breached=${String(report.breached ?? false)}; PDF (${pdf.length} bytes) at ${path}`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      work: { type: 'string', default: join(root, 'var', 'demo') },
      out: { type: 'string', default: join(root, 'var', 'story') },
    },
  });
  const s = readDemoState(resolve(values.work));
  say(
    'story    ',
    `against the demo (pid ${s.pid}): Prometheus ${s.prometheus}, alert router ${s.alertRouter.url}, billing ${s.billing.url}`,
  );
  const outcomes = await Promise.allSettled([
    routerStory(s),
    (async () => {
      await billingStory(s);
      await slaStory(s, resolve(values.out));
    })(),
  ]);
  const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
  for (const f of failed) say('FAILED   ', f.reason instanceof Error ? f.reason.message : String(f.reason));
  say('story    ', failed.length ? `${failed.length} part(s) failed` : 'every step held');
  process.exit(failed.length ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(`story: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
