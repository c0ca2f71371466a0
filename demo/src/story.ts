// The story, run against a running demo (`npm run demo:story`): every step printed with the time since
// the start, each waiting for what it claims instead of sleeping.
//   A  router down → RouterDown in Prometheus, Alertmanager, the alert router's history, the console
//      channel's notification (text and link) → acknowledged through the API → router back → resolved
//   B  an invoice made overdue → the billing cycle suspends → the PPP secret on the simulated router
//      moves to the isolation profile → paid on the Midtrans stand-in's Snap page → restored
//   C  the SLA PDF of a client link for the previous month, saved and its path printed
// A waits minutes for the alert's `for: 2m`; B and C run meanwhile. Exit code 0 only if every step held.
//   node demo/dist/story.js [--work DIR] [--out DIR]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { RouterOsClient } from '@ispmon/routeros';
import { waitFor } from '@ispmon/local-servers';
import type { ConsoleNotification } from './console-channel.js';
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

/** The PPP secret's profile and disabled flag as the simulated router reports them over its API. */
async function secretOnRouter(s: DemoState): Promise<{ profile: string; disabled: string }> {
  const r = s.routers.find((x) => x.name === s.subscription.router);
  if (!r) throw new Error(`router ${s.subscription.router} is not in the demo`);
  const client = await RouterOsClient.connect({
    host: r.host,
    port: r.port,
    username: r.username,
    password: r.password,
  });
  try {
    const rows = await client.print('/ppp/secret', { queries: [`?name=${s.subscription.pppUsername}`] });
    const row = rows[0];
    if (!row) throw new Error(`no PPP secret ${s.subscription.pppUsername} on ${r.name}`);
    return { profile: row.profile ?? '', disabled: row.disabled ?? '' };
  } finally {
    client.close();
  }
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

async function billingStory(s: DemoState): Promise<void> {
  const P = 'B billing';
  const api = `${s.billing.url}/api/v1`;
  const token = s.billing.token;
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
  const snap = await http<{ redirect_url: string; order_id?: string }>(
    'POST',
    `${api}/invoices/${invoice.id}/midtrans`,
    { token, body: {} },
  );
  say(P, `Snap transaction created; the customer opens ${snap.redirect_url}`);
  const page = await http<string>('GET', snap.redirect_url);
  const action = /<form[^>]*method="post"[^>]*action="([^"]+)"/i.exec(page)?.[1];
  if (!action || !/>\s*Pay\s*</i.test(page))
    throw new Error(`the Snap page at ${snap.redirect_url} has no Pay button`);
  const pressed = await fetch(new URL(action, snap.redirect_url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ payment_type: 'qris' }).toString(),
    signal: AbortSignal.timeout(30_000),
  });
  const paid = await pressed.text();
  if (!pressed.ok) throw new Error(`pressing Pay: HTTP ${pressed.status} ${paid.slice(0, 300)}`);
  const heading = /<h1>([^<]+)<\/h1>/.exec(paid)?.[1] ?? '';
  const delivery = (/<p id="notification">([^<]+)</.exec(paid)?.[1] ?? '').replaceAll('&#34;', '"');
  say(P, `pressed Pay (QRIS): ${heading}; ${delivery}`);
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
