// The alert router in-process with a real PostgreSQL, loopback receivers for every channel, a real SMTP
// server and real Alertmanagers. The clock is injected; each test creates its own incidents (own
// fingerprints, own alert names) and reads only what concerns them, so the tests run in any order.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { startAlertmanager, startPostgres, waitFor, type PostgresServer } from '@ispmon/testkit';
import { webhook } from '../test/fixtures.js';
import { startReceiver, type Receiver, type Received } from '../test/receiver.js';
import { startRuntime, type Runtime } from './runtime.js';
import { createToken } from './tokens.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('alert router with PostgreSQL', () => {
  let pg: PostgresServer;
  let router: Runtime;
  let now = new Date('2026-11-22T03:00:05Z');
  let telegram: Receiver;
  let hooks: Receiver;
  let flaky: Receiver;
  let broken: Receiver;
  let limited: Receiver;
  let brokenRecovered = false;
  let smtp: SMTPServer;
  const mails: string[] = [];
  let operator = '';
  let viewer = '';
  let dbName = '';
  let databaseUrl = '';

  const post = (body: unknown, raw?: string): Promise<Response> =>
    fetch(`${router.url}/webhook/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: raw ?? JSON.stringify(body),
    });
  const api = (path: string, token: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${router.url}/api/v1${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        ...(init.headers ?? {}),
      },
    });
  const db = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> =>
    pg.query<T>(sql, params, dbName);
  const incidentId = async (fingerprint: string): Promise<string> => {
    const [row] = await db<{ id: string }>('select id from incidents where fingerprint = $1', [fingerprint]);
    if (!row) throw new Error(`no incident ${fingerprint}`);
    return row.id;
  };
  /** What a receiver got about one incident (every channel's text or body links to it). */
  const about = (r: Receiver, id: string): Received[] => {
    const link = new RegExp(`/api/v1/incidents/${id}(?!\\d)`);
    return r.received.filter((x) => link.test(x.body) || link.test(String(x.headers.click ?? '')));
  };
  const routerDown = (fingerprint: string, extra: Record<string, unknown> = {}): Record<string, unknown> =>
    webhook([{ fingerprint, ...extra }]);

  beforeAll(async () => {
    // Durable commits, as in production: one test crashes PostgreSQL, and the others' data must survive.
    pg = await startPostgres({ settings: { synchronous_commit: 'on' } });
    databaseUrl = await pg.createDatabase();
    dbName = databaseUrl.split('/').pop() ?? '';
    telegram = await startReceiver(() => ({ status: 200, body: '{"ok":true,"result":{"message_id":1}}' }));
    hooks = await startReceiver();
    flaky = await startReceiver((_r, n) => (n === 1 ? { status: 503, body: 'down' } : { status: 200 }));
    broken = await startReceiver(() =>
      brokenRecovered ? { status: 200 } : { status: 500, body: 'always down' },
    );
    limited = await startReceiver();
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData: (stream, _s, cb) => {
        let t = '';
        stream.on('data', (c: Buffer) => (t += c.toString()));
        stream.on('end', () => {
          mails.push(t);
          cb();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
    const smtpPort = (smtp.server.address() as { port: number }).port;
    process.env.TEST_TELEGRAM_TOKEN = '123456:ABC-test';
    const configText = `
public_url: https://noc.example.net
channels:
  noc-telegram: { type: telegram, bot_token: { env: TEST_TELEGRAM_TOKEN }, chat_id: "-1001234567890", api_url: "${telegram.url}" }
  noc-hook: { type: webhook, url: "${hooks.url}/ispmon", secret: "hook-secret" }
  noc-slack: { type: slack, webhook_url: "${hooks.url}/slack/T000/B000/XXX" }
  noc-ntfy: { type: ntfy, url: "${hooks.url}", topic: "isp-noc" }
  noc-sms: { type: sms, url: "${hooks.url}/sms", to: ["+6281234567890"], token: "sms-token" }
  noc-mail: { type: email, smtp_url: "smtp://127.0.0.1:${smtpPort}", from: "ispmon@example.net", to: ["noc@example.net"] }
  flaky-hook: { type: webhook, url: "${flaky.url}/flaky" }
  broken-hook: { type: webhook, url: "${broken.url}/broken", max_attempts: 3 }
  limited-hook: { type: webhook, url: "${limited.url}/limited", rate_limit_per_minute: 2 }
policies:
  - name: critical-noc
    match: { severity: critical, alertname: RouterDown }
    steps:
      - { notify: [noc-telegram], wait: 5m }
      - { notify: [noc-hook, noc-slack, noc-ntfy, noc-sms, noc-mail] }
    repeat: 30m
  - name: flaky
    match: { alertname: Flaky }
    steps: [{ notify: [flaky-hook] }]
  - name: broken
    match: { alertname: Broken }
    steps: [{ notify: [broken-hook] }]
  - name: limited
    match: { alertname: Limited }
    steps: [{ notify: [limited-hook] }]
  - name: quiet
    match: { alertname: Quiet }
    steps: [{ notify: [noc-hook] }]
`;
    router = await startRuntime({
      databaseUrl,
      port: 0,
      configText,
      logger: pino({ level: 'silent' }),
      pollMs: 0,
      clock: () => now,
    });
    operator = await createToken(router.orm, 'ops', 'operator');
    viewer = await createToken(router.orm, 'wallboard', 'viewer');
  }, 120_000);

  afterAll(async () => {
    await router?.stop();
    await Promise.all([telegram, hooks, flaky, broken, limited].map((r) => r?.close()));
    await new Promise<void>((r) => smtp.close(() => r()));
    await pg?.stop();
  });

  it('stores a v4 payload (with fields newer Alertmanagers add) before answering 200', async () => {
    const res = await post(
      webhook(
        [{ fingerprint: 'fp-v4', labels: { alertname: 'V4Check', router: 'core-1', severity: 'critical' } }],
        {
          truncatedAlerts: 0,
          routeLabels: { x: 'y' },
        },
      ),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'stored', incidents: 1, created: 1, resolved: 0 });
    const rows = await db<{ alertname: string; status: string; severity: string; router: string }>(
      "select alertname, status, severity, labels->>'router' as router from incidents where fingerprint = 'fp-v4'",
    );
    expect(rows).toEqual([
      { alertname: 'V4Check', status: 'firing', severity: 'critical', router: 'core-1' },
    ]);
  });

  it('folds duplicate deliveries from an HA pair into one incident without duplicate notifications', async () => {
    now = new Date('2026-11-22T03:00:05Z');
    const payload = routerDown('fp-ha');
    const results = await Promise.all([post(payload), post(payload), post(payload)]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(await db("select id from incidents where fingerprint = 'fp-ha'")).toHaveLength(1);
    await router.work(now);
    await router.work(now);
    expect(about(telegram, await incidentId('fp-ha'))).toHaveLength(1);
  });

  it('escalates a critical alert on time through every channel, stops on acknowledgement, ends with resolution notices', async () => {
    const base = Date.parse('2026-11-22T05:00:05Z');
    const minutes = (n: number): Date => new Date(base + n * 60_000);
    now = minutes(0);
    await post(routerDown('fp-story', { startsAt: '2026-11-22T05:00:00.000Z' }));
    await router.work(now);
    const id = await incidentId('fp-story');

    // Step 1: Telegram, in the Bot API's shape.
    const [msg, ...more] = about(telegram, id);
    expect(more).toEqual([]);
    expect(msg?.path).toBe('/bot123456:ABC-test/sendMessage');
    const tg = JSON.parse(msg?.body ?? '{}') as { chat_id: string; text: string; parse_mode: string };
    expect(tg.chat_id).toBe('-1001234567890');
    expect(tg.parse_mode).toBe('HTML');
    expect(tg.text).toContain('<b>[CRITICAL] RouterDown: Router core-1 is not answering its API</b>');
    expect(tg.text).toContain('router=core-1');
    expect(tg.text).toContain('<a href="https://runbooks/RouterDown.md">Runbook</a>');
    expect(tg.text).toContain(`<a href="https://noc.example.net/api/v1/incidents/${id}">Incident</a>`);

    // Step 2 after the 5-minute wait, through every channel with its wire format.
    now = minutes(4);
    await router.work(now);
    expect(about(hooks, id)).toHaveLength(0);
    now = minutes(5);
    await router.work(now);
    await waitFor('SMTP delivery', async () =>
      mails.some((m) => m.includes(`incidents/${id}`)) ? true : undefined,
    );
    const got = about(hooks, id);
    expect(got.map((r) => r.path).sort()).toEqual(['/isp-noc', '/ispmon', '/slack/T000/B000/XXX', '/sms']);
    const hook = got.find((r) => r.path === '/ispmon');
    const ts = String(hook?.headers['x-ispmon-timestamp']);
    expect(hook?.headers['x-ispmon-signature']).toBe(
      `sha256=${createHmac('sha256', 'hook-secret').update(`${ts}.${hook?.body}`).digest('hex')}`,
    );
    expect(JSON.parse(hook?.body ?? '{}')).toMatchObject({
      kind: 'firing',
      notification: { step: 1, repeat: 0 },
      incident: { alertname: 'RouterDown', severity: 'critical', labels: { router: 'core-1' } },
    });
    const ntfy = got.find((r) => r.path === '/isp-noc');
    expect(ntfy?.headers.priority).toBe('5');
    expect(ntfy?.headers.title).toBe('[CRITICAL] RouterDown: Router core-1 is not answering its API');
    const sms = got.find((r) => r.path === '/sms');
    expect(JSON.parse(sms?.body ?? '{}')).toMatchObject({ to: '+6281234567890' });
    expect(sms?.headers.authorization).toBe('Bearer sms-token');
    expect(JSON.parse(got.find((r) => r.path.startsWith('/slack'))?.body ?? '{}').text).toContain(
      'Runbook: https://runbooks/RouterDown.md',
    );
    const mail = mails.find((m) => m.includes(`incidents/${id}`)) ?? '';
    expect(mail).toContain('Subject: [CRITICAL] RouterDown: Router core-1 is not answering its API');
    expect(mail).toContain('To: noc@example.net');
    // The last step repeats every 30 minutes until acknowledged.
    now = minutes(35);
    await router.work(now);
    expect(about(hooks, id).filter((r) => r.path === '/ispmon')).toHaveLength(2);

    // A viewer may not acknowledge; an operator may, and escalation stops.
    expect((await api(`/incidents/${id}/ack`, viewer, { method: 'POST', body: '{}' })).status).toBe(403);
    now = minutes(40);
    const ack = await api(`/incidents/${id}/ack`, operator, {
      method: 'POST',
      body: JSON.stringify({ note: 'on it, fibre cut at POP' }),
    });
    expect(ack.status).toBe(200);
    expect(await ack.json()).toMatchObject({
      acknowledged_by: 'ops',
      ack_note: 'on it, fibre cut at POP',
      acknowledged_at: '2026-11-22T05:40:05.000Z',
    });
    const before = about(hooks, id).length;
    now = minutes(70);
    await router.work(now);
    expect(about(hooks, id)).toHaveLength(before);

    // Resolved by Alertmanager: one resolution notice to every channel that was notified.
    now = minutes(80);
    const res = await post(
      routerDown('fp-story', {
        startsAt: '2026-11-22T05:00:00.000Z',
        status: 'resolved',
        endsAt: minutes(79).toISOString(),
      }),
    );
    expect(res.status).toBe(200);
    await router.work(now);
    expect(about(telegram, id).filter((r) => r.body.includes('[RESOLVED]'))).toHaveLength(1);
    expect(
      about(hooks, id).filter((r) => r.path === '/ispmon' && r.body.includes('"kind":"resolved"')),
    ).toHaveLength(1);
    const timeline = (await (await api(`/incidents/${id}`, viewer)).json()) as {
      incident: Record<string, unknown>;
      events: Array<{ type: string; at: string }>;
      notifications: Array<{ sent_at: string | null; created_at: string }>;
    };
    expect(timeline.events.map((e) => e.type)).toEqual([
      'fired',
      'notified',
      'escalated',
      'escalated',
      'acknowledged',
      'resolved',
    ]);
    // Timestamps in the API are ISO 8601 date-time, as the OpenAPI document says.
    expect(timeline.incident).toMatchObject({
      starts_at: '2026-11-22T05:00:00.000Z',
      resolved_at: minutes(79).toISOString(),
      first_seen_at: '2026-11-22T05:00:05.000Z',
    });
    for (const e of timeline.events) expect(e.at).toMatch(ISO);
    for (const n of timeline.notifications) {
      expect(n.created_at).toMatch(ISO);
      expect(n.sent_at).toMatch(ISO);
    }
  });

  it('records an alert first seen already resolved, without notifying anyone', async () => {
    const res = await post(routerDown('fp-late', { status: 'resolved', endsAt: '2026-11-22T03:10:00Z' }));
    expect(await res.json()).toMatchObject({ created: 1, resolved: 1 });
    await router.work(now);
    const id = await incidentId('fp-late');
    expect(about(telegram, id)).toEqual([]);
    expect(await db('select 1 from notifications where incident_id = $1', [id])).toEqual([]);
  });

  it('stores an invalid payload raw with the reason, then answers 400 naming the field', async () => {
    const bad = webhook([{ fingerprint: '' }], { groupKey: 'invalid-payload-test' });
    const res = await post(bad);
    expect(res.status).toBe(400);
    expect((await res.json()) as { error: string }).toEqual({
      error: expect.stringContaining('alerts.0.fingerprint'),
    });
    const notJson = await post(undefined, '{"version": "4", truncated');
    expect(await notJson.json()).toEqual({ error: 'invalid Alertmanager webhook: body is not JSON' });
    const stored = await db<{ reason: string; payload: string }>(
      "select reason, payload from webhook_deliveries where status = 'rejected' and (payload like '%invalid-payload-test%' or payload = '{\"version\": \"4\", truncated') order by id",
    );
    expect(stored.map((s) => s.reason)).toEqual([
      expect.stringContaining('alerts.0.fingerprint'),
      'body is not JSON',
    ]);
    expect(stored[1]?.payload).toBe('{"version": "4", truncated');
  });

  it('delivers exactly once to a receiver that fails then recovers; dead-letters one that never does, and a retry delivers it', async () => {
    now = new Date('2026-11-23T00:00:00Z');
    await post(
      webhook([
        { fingerprint: 'fp-flaky', labels: { alertname: 'Flaky', severity: 'warning' } },
        { fingerprint: 'fp-broken', labels: { alertname: 'Broken', severity: 'warning' } },
      ]),
    );
    for (let i = 0; i < 6; i++) {
      now = new Date(now.getTime() + 60 * 60_000);
      await router.work(now);
    }
    expect(flaky.received).toHaveLength(2); // one 503, one success
    expect(broken.received).toHaveLength(3);
    const dead = await db<{ id: string; status: string; attempts: number }>(
      "select n.id, n.status, n.attempts from notifications n join incidents i on i.id = n.incident_id where i.fingerprint = 'fp-broken'",
    );
    expect(dead).toEqual([{ id: expect.any(String), status: 'dead', attempts: 3 }]);
    expect(
      await db('select ok from notification_attempts where notification_id = $1', [dead[0]?.id]),
    ).toEqual([{ ok: false }, { ok: false }, { ok: false }]);
    // The operator fixes the receiver and retries: the retry is really delivered and recorded.
    expect((await api(`/notifications/${dead[0]?.id}/retry`, viewer, { method: 'POST' })).status).toBe(403);
    brokenRecovered = true;
    const retry = await api(`/notifications/${dead[0]?.id}/retry`, operator, { method: 'POST' });
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({ status: 'pending' });
    await router.work(now);
    expect(broken.received).toHaveLength(4);
    expect(JSON.parse(broken.received[3]?.body ?? '{}')).toMatchObject({
      kind: 'firing',
      notification: { id: dead[0]?.id },
    });
    expect(
      await db('select status, attempts, last_error from notifications where id = $1', [dead[0]?.id]),
    ).toEqual([{ status: 'sent', attempts: 4, last_error: null }]);
    expect((await api(`/notifications/${dead[0]?.id}/retry`, operator, { method: 'POST' })).status).toBe(404);
  });

  it('holds a channel to rate_limit_per_minute: the rest wait for the next minute, none is lost', async () => {
    now = new Date('2026-11-24T00:00:00Z');
    await post(
      webhook(
        Array.from({ length: 5 }, (_, i) => ({
          fingerprint: `fp-limited-${i}`,
          labels: { alertname: 'Limited', severity: 'warning', n: String(i) },
        })),
      ),
    );
    await router.work(now);
    expect(limited.received).toHaveLength(2);
    const waiting = await db<{ status: string; next_attempt_at: Date }>(
      "select n.status, n.next_attempt_at from notifications n join incidents i on i.id = n.incident_id where i.alertname = 'Limited' and n.status = 'pending'",
    );
    expect(waiting).toHaveLength(3);
    for (const w of waiting) expect(new Date(w.next_attempt_at).getTime()).toBe(now.getTime() + 60_000);
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metrics).toMatch(/notifications_total\{channel="limited-hook",outcome="rate_limited"\} 3/);
    now = new Date(now.getTime() + 30_000);
    await router.work(now);
    expect(limited.received).toHaveLength(2);
    now = new Date('2026-11-24T00:01:00Z');
    await router.work(now);
    expect(limited.received).toHaveLength(4);
    now = new Date('2026-11-24T00:02:00Z');
    await router.work(now);
    expect(limited.received).toHaveLength(5);
  });

  it('resolves by hand: records who and why, stops escalation, sends the resolution notice once', async () => {
    now = new Date('2026-11-25T00:00:00Z');
    await post(webhook([{ fingerprint: 'fp-manual', labels: { alertname: 'Quiet', severity: 'warning' } }]));
    await router.work(now);
    const id = await incidentId('fp-manual');
    expect(about(hooks, id).map((r) => (JSON.parse(r.body) as { kind: string }).kind)).toEqual(['firing']);
    expect(
      (await api(`/incidents/${id}/resolve`, viewer, { method: 'POST', body: '{"note":"x"}' })).status,
    ).toBe(403);
    const noNote = await api(`/incidents/${id}/resolve`, operator, { method: 'POST', body: '{}' });
    expect(noNote.status).toBe(400);
    expect(((await noNote.json()) as { error: string }).error).toMatch(/^note: /);
    expect(
      (await api('/incidents/999999/resolve', operator, { method: 'POST', body: '{"note":"x"}' })).status,
    ).toBe(404);
    now = new Date('2026-11-25T00:20:00Z');
    const res = await api(`/incidents/${id}/resolve`, operator, {
      method: 'POST',
      body: JSON.stringify({ note: 'false alarm, probe misconfigured' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'resolved',
      resolved_by: 'ops',
      resolution_note: 'false alarm, probe misconfigured',
      resolved_at: '2026-11-25T00:20:00.000Z',
    });
    expect(await db('select state from escalations where incident_id = $1', [id])).toEqual([
      { state: 'stopped' },
    ]);
    // Resolving again changes nothing and sends nothing more.
    await api(`/incidents/${id}/resolve`, operator, { method: 'POST', body: '{"note":"again"}' });
    await router.work(now);
    await router.work(new Date('2026-11-25T02:00:00Z'));
    expect(about(hooks, id).map((r) => (JSON.parse(r.body) as { kind: string }).kind)).toEqual([
      'firing',
      'resolved',
    ]);
    const events = await db<{ type: string; actor: string | null }>(
      'select type, actor from incident_events where incident_id = $1 order by id',
      [id],
    );
    expect(events).toEqual([
      { type: 'fired', actor: null },
      { type: 'notified', actor: null },
      { type: 'manually_resolved', actor: 'ops' },
    ]);
  });

  it('lists incidents with filters, pagination and a summary, and computes MTTA and MTTR exactly', async () => {
    // Three incidents of their own in October: A critical, acknowledged after 10 min, resolved by hand
    // after 30 min; B warning, resolved by Alertmanager after 20 min; C warning, still firing.
    const at = (m: number): string => new Date(Date.parse('2026-10-01T00:00:00Z') + m * 60_000).toISOString();
    const labels = (alertname: string, severity: string) => ({
      alertname,
      severity,
      suite: 'stats',
      router: 'core-9',
    });
    now = new Date(at(1));
    await post(
      webhook([
        { fingerprint: 'st-a', startsAt: at(0), labels: labels('StatsA', 'critical') },
        { fingerprint: 'st-b', startsAt: at(0), labels: labels('StatsB', 'warning') },
        { fingerprint: 'st-c', startsAt: at(0), labels: labels('StatsC', 'warning') },
      ]),
    );
    const a = await incidentId('st-a');
    now = new Date(at(10));
    expect((await api(`/incidents/${a}/ack`, operator, { method: 'POST', body: '{}' })).status).toBe(200);
    now = new Date(at(30));
    expect(
      (await api(`/incidents/${a}/resolve`, operator, { method: 'POST', body: '{"note":"fixed"}' })).status,
    ).toBe(200);
    await post(
      webhook([
        {
          fingerprint: 'st-b',
          startsAt: at(0),
          endsAt: at(20),
          status: 'resolved',
          labels: labels('StatsB', 'warning'),
        },
      ]),
    );

    const all = (await (await api('/incidents?label=suite%3Dstats&limit=2', viewer)).json()) as {
      items: Array<Record<string, unknown>>;
      total: number;
      summary: Record<string, number>;
    };
    expect(all.items).toHaveLength(2);
    expect(all.total).toBe(3);
    expect(all.summary).toEqual({ firing: 1, resolved: 2, acknowledged: 0, critical: 1, warning: 2 });
    for (const item of all.items) expect(item.starts_at).toBe(at(0));
    const page2 = (await (await api('/incidents?label=suite%3Dstats&limit=2&offset=2', viewer)).json()) as {
      items: unknown[];
    };
    expect(page2.items).toHaveLength(1);
    const resolved = (await (
      await api(
        '/incidents?label=suite%3Dstats&label=router%3Dcore-9&status=resolved&severity=warning',
        viewer,
      )
    ).json()) as { total: number; items: Array<{ alertname: string }> };
    expect(resolved.items.map((i) => i.alertname)).toEqual(['StatsB']);
    const bad = await api('/incidents?status=sleeping', viewer);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^status: /);

    const stats = (await (
      await api('/stats?since=2026-10-01T00:00:00Z&until=2026-10-02T00:00:00Z', viewer)
    ).json()) as Record<string, unknown>;
    expect(stats).toEqual({
      since: '2026-10-01T00:00:00.000Z',
      until: '2026-10-02T00:00:00.000Z',
      incidents: 3,
      by_severity: { critical: 1, warning: 2 },
      mtta_seconds: 600, // only A was acknowledged, 10 minutes after it started
      mttr_seconds: 1500, // A after 30 minutes, B after 20: mean 25 minutes
    });
    expect(await api('/incidents', 'not-a-token')).toHaveProperty('status', 401);
  });

  it('acknowledges with silenceMinutes: a silence on the incident labels in the real Alertmanager', async () => {
    const am = await startAlertmanager();
    const url = await pg.createDatabase();
    const withAm = await startRuntime({
      databaseUrl: url,
      port: 0,
      logger: pino({ level: 'silent' }),
      pollMs: 0,
      alertmanagerUrl: am.url,
    });
    try {
      const token = await createToken(withAm.orm, 'ops', 'operator');
      const labels = { alertname: 'UplinkDown', router: 'edge-3', severity: 'critical' };
      const startsAt = new Date(Date.now() - 60_000).toISOString();
      await am.postAlerts([{ labels, startsAt }]);
      const stored = await fetch(`${withAm.url}/webhook/alertmanager`, {
        method: 'POST',
        body: JSON.stringify(webhook([{ fingerprint: 'fp-silence', labels, startsAt }])),
      });
      expect(stored.status).toBe(200);
      const [{ id }] = (await pg.query<{ id: string }>(
        "select id from incidents where fingerprint = 'fp-silence'",
        [],
        url.split('/').pop(),
      )) as [{ id: string }];
      const before = Date.now();
      const ack = await fetch(`${withAm.url}/api/v1/incidents/${id}/ack`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ note: 'maintenance on edge-3', silenceMinutes: 45 }),
      });
      expect(ack.status).toBe(200);
      const body = (await ack.json()) as { silence_id: string; acknowledged_by: string };
      expect(body.acknowledged_by).toBe('ops');
      const silences = await am.api<
        Array<{
          id: string;
          status: { state: string };
          matchers: Array<{ name: string; value: string; isRegex: boolean; isEqual: boolean }>;
          startsAt: string;
          endsAt: string;
          createdBy: string;
          comment: string;
        }>
      >('/silences');
      const silence = silences.find((s) => s.id === body.silence_id);
      expect(silence).toMatchObject({
        status: { state: 'active' },
        createdBy: 'ops',
        comment: 'maintenance on edge-3',
      });
      expect(silence?.matchers.map((m) => [m.name, m.value, m.isRegex, m.isEqual]).sort()).toEqual([
        ['alertname', 'UplinkDown', false, true],
        ['router', 'edge-3', false, true],
        ['severity', 'critical', false, true],
      ]);
      const length = Date.parse(silence?.endsAt ?? '') - Date.parse(silence?.startsAt ?? '');
      expect(Math.abs(length - 45 * 60_000)).toBeLessThan(Date.now() - before + 1_000);
      // The alert itself is now silenced in Alertmanager.
      await waitFor('alert silenced', async () => {
        const alerts =
          await am.api<Array<{ labels: Record<string, string>; status: { silencedBy: string[] } }>>(
            '/alerts?silenced=true',
          );
        const a = alerts.find((x) => x.labels.alertname === 'UplinkDown');
        return a?.status.silencedBy.includes(body.silence_id) ? true : undefined;
      });
    } finally {
      await withAm.stop();
      await am.stop();
    }
  });

  it('documents every mounted route and mounts every documented one, with schemas generated from the validating zod', async () => {
    const doc = (await (await fetch(`${router.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const stack = (
      router.app as unknown as {
        router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> };
      }
    ).router.stack;
    const mounted = stack
      .flatMap((l) =>
        l.route
          ? Object.keys(l.route.methods).map(
              (m) => `${m.toUpperCase()} ${l.route?.path.replace(/:(\w+)/g, '{$1}')}`,
            )
          : [],
      )
      .sort();
    expect(mounted).toEqual(documented);
    expect(mounted).toContain('POST /api/v1/incidents/{id}/resolve');
    // The request schema is the one that validates: the ack body's limit, and the answer it enforces.
    const ack = doc.paths['/api/v1/incidents/{id}/ack']?.post as {
      requestBody: {
        content: { 'application/json': { schema: { properties: Record<string, { maximum?: number }> } } };
      };
    };
    expect(ack.requestBody.content['application/json'].schema.properties.silenceMinutes?.maximum).toBe(10080);
    const [incident] = await db<{ id: string }>('select id from incidents limit 1');
    const tooLong = await api(`/incidents/${incident?.id}/ack`, operator, {
      method: 'POST',
      body: JSON.stringify({ silenceMinutes: 10081 }),
    });
    expect(tooLong.status).toBe(400);
    expect(((await tooLong.json()) as { error: string }).error).toMatch(/^silenceMinutes: /);
    const stats = doc.paths['/api/v1/stats']?.get as {
      responses: {
        '200': { content: { 'application/json': { schema: { properties: Record<string, unknown> } } } };
      };
    };
    expect(stats.responses['200'].content['application/json'].schema.properties.mttr_seconds).toEqual({
      type: ['number', 'null'],
      description: 'mean time to resolve; null when none was',
    });
  });

  it('serves metrics and health', async () => {
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metrics).toMatch(/ispmon_alert_router_webhooks_total\{outcome="accepted"\} \d+/);
    const open = await db<{ severity: string; n: string }>(
      "select severity, count(*) as n from incidents where status = 'firing' group by severity",
    );
    for (const { severity, n } of open)
      expect(metrics).toContain(`ispmon_alert_router_incidents_open{severity="${severity}"} ${n}`);
    expect((await fetch(`${router.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${router.url}/readyz`)).status).toBe(200);
  });

  it('answers 503 while the database is down, so Alertmanager retries, and stores the retry', async () => {
    await pg.crash();
    try {
      const down = await post(routerDown('fp-during-outage'));
      expect(down.status).toBe(503);
      expect((await fetch(`${router.url}/readyz`)).status).toBe(503);
    } finally {
      await pg.start();
    }
    const retried = await waitFor(
      'webhook accepted after the database returns',
      async () => {
        const r = await post(routerDown('fp-during-outage'));
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(retried.status).toBe(200);
    expect(await db("select id from incidents where fingerprint = 'fp-during-outage'")).toHaveLength(1);
  });

  it('receives alerts from a real Alertmanager configured from alertmanager/alertmanager.yml', async () => {
    // The shipped alertmanager/alertmanager.yml, pointed at this router, with shorter waits.
    const shipped = readFileSync(join(process.cwd(), 'alertmanager/alertmanager.yml'), 'utf8')
      .replace('http://alert-router:8080/webhook/alertmanager', `${router.url}/webhook/alertmanager`)
      .replace(/group_wait: \d+s/g, 'group_wait: 1s');
    const am = await startAlertmanager({ config: shipped });
    try {
      await am.postAlerts([
        {
          labels: { alertname: 'RouterHighCpu', router: 'edge-9', severity: 'warning', team: 'noc' },
          annotations: { summary: 'CPU of edge-9 at 97%' },
        },
      ]);
      const rows = await waitFor(
        'incident from Alertmanager',
        async () => {
          const r = await db<{ summary: string; receiver: string }>(
            "select summary, receiver from incidents where alertname = 'RouterHighCpu'",
          );
          return r.length ? r : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 200 },
      );
      expect(rows).toEqual([{ summary: 'CPU of edge-9 at 97%', receiver: 'alert-router' }]);
    } finally {
      await am.stop();
    }
  });
});

describe('retention', () => {
  it('deletes resolved incidents older than the horizon, keeps the rest', async () => {
    const pg = await startPostgres();
    try {
      const url = await pg.createDatabase();
      const router = await startRuntime({
        databaseUrl: url,
        port: 0,
        configText: 'retention_days: 30\n',
        logger: pino({ level: 'silent' }),
        pollMs: 0,
      });
      const db = url.split('/').pop();
      const insert = (fp: string, status: string, resolvedDaysAgo: number | null): Promise<unknown> =>
        pg.query(
          `insert into incidents (fingerprint, starts_at, alertname, status, labels, first_seen_at, last_seen_at, resolved_at)
           values ($1, now() - interval '60 days', 'X', $2, '{}', now(), now(), ${resolvedDaysAgo === null ? 'null' : `now() - interval '${resolvedDaysAgo} days'`})`,
          [fp, status],
          db,
        );
      await insert('old-resolved', 'resolved', 45);
      await insert('recent-resolved', 'resolved', 5);
      await insert('old-firing', 'firing', null);
      // Alertmanager's raw deliveries go by their own age (they belong to no incident).
      for (const daysAgo of [45, 5])
        await pg.query(
          `insert into webhook_deliveries (received_at, status, group_key, alerts, payload)
           values (now() - interval '${daysAgo} days', 'accepted', $1, 1, '{}')`,
          [`delivered-${daysAgo}-days-ago`],
          db,
        );
      expect(await router.purge(new Date())).toEqual({ incidents: 1, webhookDeliveries: 1 });
      const deliveries = await pg.query<{ group_key: string }>(
        'select group_key from webhook_deliveries',
        [],
        db,
      );
      expect(deliveries).toEqual([{ group_key: 'delivered-5-days-ago' }]);
      const left = await pg.query<{ fingerprint: string }>(
        'select fingerprint from incidents order by fingerprint',
        [],
        db,
      );
      expect(left.map((r) => r.fingerprint)).toEqual(['old-firing', 'recent-resolved']);
      await router.stop();
    } finally {
      await pg.stop();
    }
  });
});
