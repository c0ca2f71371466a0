import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { startAlertmanager, startPostgres, waitFor, type PostgresServer } from '@ispmon/testkit';
import { startRuntime, type Runtime } from './runtime.js';
import { webhook } from '../test/fixtures.js';
import { createToken } from './tokens.js';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A loopback HTTP receiver standing in for Telegram, Slack, ntfy, SMS and webhook endpoints. */
async function fakeReceiver(
  respond: (r: Received, n: number) => { status: number; body?: string },
): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      const out = respond(r, received.length);
      res.writeHead(out.status, { 'content-type': 'application/json' });
      res.end(out.body ?? '{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return {
    url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`,
    received,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('alert router with PostgreSQL', () => {
  let pg: PostgresServer;
  let router: Runtime;
  let now = new Date('2026-11-22T03:00:05Z');
  const minutes = (n: number): Date => new Date(Date.parse('2026-11-22T03:00:05Z') + n * 60_000);
  let telegram: Awaited<ReturnType<typeof fakeReceiver>>;
  let hooks: Awaited<ReturnType<typeof fakeReceiver>>;
  let flaky: Awaited<ReturnType<typeof fakeReceiver>>;
  let broken: Awaited<ReturnType<typeof fakeReceiver>>;
  let smtp: SMTPServer;
  let smtpPort = 0;
  const mails: string[] = [];
  let operator = '';
  let viewer = '';

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
  const db = async <T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> =>
    pg.query<T>(sql, params, dbName);
  let dbName = '';

  beforeAll(async () => {
    pg = await startPostgres();
    const url = await pg.createDatabase();
    dbName = url.split('/').pop() ?? '';
    telegram = await fakeReceiver(() => ({ status: 200, body: '{"ok":true,"result":{"message_id":1}}' }));
    hooks = await fakeReceiver(() => ({ status: 200 }));
    flaky = await fakeReceiver((_r, n) => (n === 1 ? { status: 503, body: 'down' } : { status: 200 }));
    broken = await fakeReceiver(() => ({ status: 500, body: 'always down' }));
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
    smtpPort = (smtp.server.address() as { port: number }).port;
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
`;
    router = await startRuntime({
      databaseUrl: url,
      port: 0,
      configText,
      logger: pino({ level: 'silent' }),
      pollMs: 0,
      clock: () => now,
    });
    operator = await createToken(router.orm, 'ops', 'operator');
    viewer = await createToken(router.orm, 'wallboard', 'viewer');
  });

  afterAll(async () => {
    await router?.stop();
    await Promise.all([telegram.close(), hooks.close(), flaky.close(), broken.close()]);
    await new Promise<void>((r) => smtp.close(() => r()));
    await pg.stop();
  });

  it('stores a v4 payload (with fields newer Alertmanagers add) before answering 200', async () => {
    const res = await post(
      webhook([{ fingerprint: 'fp-router-down' }], { truncatedAlerts: 0, routeLabels: { x: 'y' } }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'stored', incidents: 1, created: 1, resolved: 0 });
    const rows = await db<{ alertname: string; status: string; severity: string; router: string }>(
      "select alertname, status, severity, labels->>'router' as router from incidents where fingerprint = 'fp-router-down'",
    );
    expect(rows).toEqual([
      { alertname: 'RouterDown', status: 'firing', severity: 'critical', router: 'core-1' },
    ]);
  });

  it('folds duplicate deliveries from an HA pair into one incident without duplicate notifications', async () => {
    const payload = webhook([{ fingerprint: 'fp-router-down' }]);
    const results = await Promise.all([post(payload), post(payload), post(payload)]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(await db("select id from incidents where fingerprint = 'fp-router-down'")).toHaveLength(1);
    await router.work(now);
    await router.work(now);
    expect(telegram.received).toHaveLength(1);
  });

  it('speaks the Telegram Bot API: sendMessage with chat_id, HTML text and the links', () => {
    const [msg] = telegram.received;
    expect(msg?.path).toBe('/bot123456:ABC-test/sendMessage');
    const body = JSON.parse(msg?.body ?? '{}') as { chat_id: string; text: string; parse_mode: string };
    expect(body.chat_id).toBe('-1001234567890');
    expect(body.parse_mode).toBe('HTML');
    expect(body.text).toContain('<b>[CRITICAL] RouterDown: Router core-1 is not answering its API</b>');
    expect(body.text).toContain('router=core-1');
    expect(body.text).toContain('<a href="https://runbooks/RouterDown.md">Runbook</a>');
    expect(body.text).toMatch(/<a href="https:\/\/noc\.example\.net\/api\/v1\/incidents\/\d+">Incident<\/a>/);
  });

  it('escalates on time with an injected clock, through every channel with its wire format', async () => {
    now = minutes(4);
    await router.work(now);
    expect(hooks.received).toHaveLength(0); // the 5-minute wait is not over
    now = minutes(5);
    await router.work(now);
    await waitFor('SMTP delivery', async () => (mails.length ? true : undefined));
    const paths = hooks.received.map((r) => r.path).sort();
    expect(paths).toEqual(['/isp-noc', '/ispmon', '/slack/T000/B000/XXX', '/sms']);
    const hook = hooks.received.find((r) => r.path === '/ispmon');
    const ts = String(hook?.headers['x-ispmon-timestamp']);
    expect(hook?.headers['x-ispmon-signature']).toBe(
      `sha256=${createHmac('sha256', 'hook-secret').update(`${ts}.${hook?.body}`).digest('hex')}`,
    );
    expect(JSON.parse(hook?.body ?? '{}')).toMatchObject({
      kind: 'firing',
      incident: { alertname: 'RouterDown', severity: 'critical', labels: { router: 'core-1' } },
    });
    const ntfy = hooks.received.find((r) => r.path === '/isp-noc');
    expect(ntfy?.headers.priority).toBe('5');
    expect(ntfy?.headers.title).toBe('[CRITICAL] RouterDown: Router core-1 is not answering its API');
    expect(JSON.parse(hooks.received.find((r) => r.path === '/sms')?.body ?? '{}')).toMatchObject({
      to: '+6281234567890',
    });
    expect(hooks.received.find((r) => r.path === '/sms')?.headers.authorization).toBe('Bearer sms-token');
    expect(JSON.parse(hooks.received.find((r) => r.path.startsWith('/slack'))?.body ?? '{}').text).toContain(
      'Runbook: https://runbooks/RouterDown.md',
    );
    expect(mails[0]).toContain('Subject: [CRITICAL] RouterDown: Router core-1 is not answering its API');
    expect(mails[0]).toContain('To: noc@example.net');
    // The last step repeats every 30 minutes until acknowledged.
    now = minutes(35);
    await router.work(now);
    expect(hooks.received.filter((r) => r.path === '/ispmon')).toHaveLength(2);
  });

  it('stops escalating on acknowledgement; a viewer may not acknowledge', async () => {
    const [incident] = await db<{ id: string }>(
      "select id from incidents where fingerprint = 'fp-router-down'",
    );
    const denied = await api(`/incidents/${incident?.id}/ack`, viewer, { method: 'POST', body: '{}' });
    expect(denied.status).toBe(403);
    now = minutes(40);
    const ack = await api(`/incidents/${incident?.id}/ack`, operator, {
      method: 'POST',
      body: JSON.stringify({ note: 'on it, fibre cut at POP' }),
    });
    expect(ack.status).toBe(200);
    expect(await ack.json()).toMatchObject({ acknowledged_by: 'ops', ack_note: 'on it, fibre cut at POP' });
    const before = hooks.received.length;
    now = minutes(70);
    await router.work(now);
    expect(hooks.received.length).toBe(before);
  });

  it('ends on resolve and sends resolution notices to everyone who was notified', async () => {
    now = minutes(80);
    const res = await post(
      webhook([{ fingerprint: 'fp-router-down', status: 'resolved', endsAt: minutes(79).toISOString() }]),
    );
    expect(res.status).toBe(200);
    await router.work(now);
    const resolvedTelegram = telegram.received.filter((r) => r.body.includes('[RESOLVED]'));
    expect(resolvedTelegram).toHaveLength(1);
    expect(
      hooks.received.filter((r) => r.path === '/ispmon' && r.body.includes('"kind":"resolved"')),
    ).toHaveLength(1);
    const [incident] = await db<{ id: string }>(
      "select id from incidents where fingerprint = 'fp-router-down'",
    );
    const timeline = (await (await api(`/incidents/${incident?.id}`, viewer)).json()) as {
      events: Array<{ type: string }>;
    };
    expect(timeline.events.map((e) => e.type)).toEqual([
      'fired',
      'notified',
      'escalated',
      'escalated',
      'acknowledged',
      'resolved',
    ]);
  });

  it('records an alert first seen already resolved, without notifying anyone', async () => {
    const before = telegram.received.length;
    const res = await post(
      webhook([{ fingerprint: 'fp-late', status: 'resolved', endsAt: '2026-11-22T03:10:00Z' }]),
    );
    expect(await res.json()).toMatchObject({ created: 1, resolved: 1 });
    await router.work(now);
    expect(telegram.received.length).toBe(before);
  });

  it('stores an invalid payload raw with the reason, then answers 400 naming the field', async () => {
    const bad = webhook([{ fingerprint: '' }]);
    const res = await post(bad);
    expect(res.status).toBe(400);
    expect((await res.json()) as { error: string }).toEqual({
      error: expect.stringContaining('alerts.0.fingerprint'),
    });
    const notJson = await post(undefined, '{"version": "4", truncated');
    expect(await notJson.json()).toEqual({ error: 'invalid Alertmanager webhook: body is not JSON' });
    const stored = await db<{ reason: string; payload: string }>(
      "select reason, payload from webhook_deliveries where status = 'rejected' order by id",
    );
    expect(stored.map((s) => s.reason)).toEqual([
      expect.stringContaining('alerts.0.fingerprint'),
      'body is not JSON',
    ]);
    expect(stored[1]?.payload).toBe('{"version": "4", truncated');
  });

  it('delivers exactly once to a receiver that fails then recovers, and dead-letters one that never does', async () => {
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
    const attempts = await db(
      'select * from notification_attempts where notification_id = ?'.replace('?', '$1'),
      [dead[0]?.id],
    );
    expect(attempts).toHaveLength(3);
    const retry = await api(`/notifications/${dead[0]?.id}/retry`, operator, { method: 'POST' });
    expect(retry.status).toBe(200);
  });

  it('lists incidents with filters, pagination and a summary, and computes MTTA and MTTR', async () => {
    const all = (await (await api('/incidents?limit=2', viewer)).json()) as {
      items: unknown[];
      total: number;
      summary: Record<string, number>;
    };
    expect(all.items).toHaveLength(2);
    expect(all.total).toBe(4);
    expect(all.summary).toMatchObject({ firing: 2, resolved: 2, critical: 2, warning: 2 });
    const byLabel = (await (
      await api('/incidents?label=router%3Dcore-1&status=resolved', viewer)
    ).json()) as { total: number };
    expect(byLabel.total).toBe(2);
    const bad = await api('/incidents?status=sleeping', viewer);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^status: /);
    const stats = (await (
      await api('/stats?since=2026-11-22T00:00:00Z&until=2026-11-23T00:00:00Z', viewer)
    ).json()) as { incidents: number; mtta_seconds: number; mttr_seconds: number };
    expect(stats.incidents).toBe(4);
    expect(Number(stats.mtta_seconds)).toBeCloseTo(40 * 60 + 5, 0); // acknowledged at 03:40:05 for an alert that started at 03:00:00
    expect(await api('/incidents', 'not-a-token')).toHaveProperty('status', 401);
  });

  it('serves an OpenAPI document, metrics and health', async () => {
    const doc = (await (await fetch(`${router.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/webhook/alertmanager',
        '/api/v1/incidents',
        '/api/v1/incidents/{id}/ack',
        '/api/v1/stats',
      ]),
    );
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metrics).toMatch(/ispmon_alert_router_webhooks_total\{outcome="accepted"\} \d+/);
    expect(metrics).toMatch(/ispmon_alert_router_incidents_open\{severity="warning"\} 2/);
    expect(metrics).toMatch(
      /ispmon_alert_router_notifications_total\{channel="broken-hook",outcome="dead"\} 1/,
    );
    expect((await fetch(`${router.url}/readyz`)).status).toBe(200);
  });

  it('answers 503 while the database is down, so Alertmanager retries, and stores the retry', async () => {
    await pg.crash();
    const down = await post(webhook([{ fingerprint: 'fp-during-outage' }]));
    expect(down.status).toBe(503);
    expect((await fetch(`${router.url}/readyz`)).status).toBe(503);
    await pg.start();
    const retried = await waitFor(
      'webhook accepted after the database returns',
      async () => {
        const r = await post(webhook([{ fingerprint: 'fp-during-outage' }]));
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
      expect(await router.purge(new Date())).toBe(1);
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
