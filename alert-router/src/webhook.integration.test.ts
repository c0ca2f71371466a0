// The webhook seam against a real PostgreSQL and a real Alertmanager: large groups accepted up to the
// configured limit, every refusal stored (bounded), logged and counted, webhook credentials from the
// environment as Alertmanager's http_config sends them, counters at 0 before anything happens.
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { pino } from 'pino';
import { findBinary, startAlertmanager, startPostgres, waitFor, type PostgresServer } from '@ispmon/testkit';
import { webhook } from '../test/fixtures.js';
import { settingsFromEnv } from './config.js';
import { startRuntime, type Runtime } from './runtime.js';
import { REJECTED_KEEP_CHARS } from './ingest.js';

const MiB = 1024 * 1024;

interface Reply {
  status: number;
  text: string;
  json(): unknown;
}
/**
 * One request on a connection of its own. Client and server share this process's event loop: a pooled
 * keep-alive connection that sat idle through a long synchronous stretch (building a 10 MiB body on a
 * loaded machine) can be closed by the server's keep-alive timer just as the next request is written
 * on it, and the request fails with ECONNRESET (seen under load in CI).
 */
function send(
  url: string,
  method = 'GET',
  headers: Record<string, string> = {},
  body?: string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(url, { method, headers, agent: false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, text, json: () => JSON.parse(text) as unknown });
      });
    });
    // The 413 comes before the whole body is sent, and the server hangs up after it (`connection:
    // close`): writing the rest then fails, which is not a failure of a request already answered.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.end(body);
  });
}

describe('Alertmanager webhook limits, refusals and credentials', () => {
  let pg: PostgresServer;
  let router: Runtime;
  let dbName = '';
  const logs: Array<Record<string, unknown>> = [];

  const db = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> =>
    pg.query<T>(sql, params, dbName);
  const post = (body: string, headers: Record<string, string> = {}): Promise<Reply> =>
    send(
      `${router.url}/webhook/alertmanager`,
      'POST',
      { 'content-type': 'application/json', ...headers },
      body,
    );
  const metric = async (pattern: RegExp): Promise<number> =>
    Number((await send(`${router.url}/metrics`)).text.match(pattern)?.[1] ?? NaN);
  const basic = `Basic ${Buffer.from('alertmanager:s3cret').toString('base64')}`;

  beforeAll(async () => {
    pg = await startPostgres();
    const url = await pg.createDatabase();
    dbName = url.split('/').pop() ?? '';
    // The settings main.ts passes, read from the environment it would see.
    const settings = settingsFromEnv({
      DATABASE_URL: url,
      PORT: '0',
      HOST: '127.0.0.1',
      WEBHOOK_BEARER_TOKEN: 'am-bearer',
      WEBHOOK_BASIC_AUTH_USERNAME: 'alertmanager',
      WEBHOOK_BASIC_AUTH_PASSWORD: 's3cret',
      WEBHOOK_MAX_BYTES: String(16 * MiB),
    });
    router = await startRuntime({
      ...settings,
      configText: 'channels:\n  sink: { type: webhook, url: "http://127.0.0.1:9/x" }\n',
      logger: pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) }),
      pollMs: 0,
    });
  }, 120_000);

  afterAll(async () => {
    await router?.stop();
    await pg?.stop();
  });

  it('shows every webhook outcome and every channel outcome as 0 before anything happened, in a form promtool accepts', async () => {
    const { text } = await send(`${router.url}/metrics`);
    for (const outcome of ['accepted', 'rejected', 'too_large', 'unauthorized', 'failed'])
      expect(text).toContain(`ispmon_alert_router_webhooks_total{outcome="${outcome}"}`);
    for (const outcome of ['sent', 'failed', 'rate_limited', 'dead', 'superseded'])
      expect(text).toContain(
        `ispmon_alert_router_notifications_total{channel="sink",outcome="${outcome}"} 0`,
      );
    expect(text).toContain('ispmon_alert_router_incidents_open{severity="critical"} 0');
    // Prometheus naming and format, as promtool judges them.
    const check = await new Promise<{ code: number; output: string }>((resolve) => {
      const child = execFile(findBinary('promtool', 'prometheus'), ['check', 'metrics'], (err, out, errOut) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${out}${errOut}` }),
      );
      child.stdin?.end(text);
    });
    expect(check).toEqual({ code: 0, output: '' });
  });

  it('accepts a 10 MiB webhook of 10,000 alerts and stores every one', async () => {
    const alerts = Array.from({ length: 10_000 }, (_, i) => ({
      fingerprint: `big-${i}`,
      labels: {
        alertname: 'InterfaceDown',
        router: `olt-${i % 40}`,
        ifName: `gpon0/${i}`,
        severity: 'warning',
      },
      annotations: { summary: `gpon0/${i} down`, description: 'x'.repeat(900) },
    }));
    const body = JSON.stringify(webhook(alerts, { groupKey: '{}:{alertname="InterfaceDown"}' }));
    expect(Buffer.byteLength(body)).toBeGreaterThanOrEqual(10 * MiB);
    const res = await post(body, { authorization: 'Bearer am-bearer' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'stored', incidents: 10_000, created: 10_000, resolved: 0 });
    const [{ n }] = (await db<{ n: string }>(
      "select count(*) as n from incidents where alertname = 'InterfaceDown'",
    )) as [{ n: string }];
    expect(Number(n)).toBe(10_000);
    const [stored] = await db<{ bytes: string; alerts: number }>(
      'select bytes, alerts from webhook_deliveries where group_key = \'{}:{alertname="InterfaceDown"}\'',
    );
    expect(stored).toEqual({ bytes: String(Buffer.byteLength(body)), alerts: 10_000 });
  }, 120_000);

  it('refuses a body over WEBHOOK_MAX_BYTES with 413, and stores its beginning, logs and counts it', async () => {
    const before = await metric(/webhooks_total\{outcome="too_large"\} (\d+)/);
    const body = JSON.stringify(
      webhook([{ fingerprint: 'too-big', annotations: { pad: 'y'.repeat(17 * MiB) } }]),
    );
    const res = await post(body, { authorization: basic });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toContain('exceeds the limit of 16777216 bytes');
    const [row] = await db<{ reason: string; bytes: string; len: number; head: string }>(
      "select reason, bytes, length(payload) as len, left(payload, 40) as head from webhook_deliveries where status = 'rejected' and reason like '%WEBHOOK_MAX_BYTES%'",
    );
    expect(row?.reason).toContain('exceeds the limit of 16777216 bytes (WEBHOOK_MAX_BYTES)');
    expect(Number(row?.bytes)).toBe(Buffer.byteLength(body));
    expect(row?.len).toBe(REJECTED_KEEP_CHARS);
    expect(body.startsWith(row?.head ?? '-')).toBe(true);
    expect(await metric(/webhooks_total\{outcome="too_large"\} (\d+)/)).toBe(before + 1);
    expect(logs.find((l) => l.event === 'webhook_too_large')).toMatchObject({
      level: 40,
      reason: expect.stringContaining('WEBHOOK_MAX_BYTES'),
    });
  });

  it('stores, logs and counts a malformed body before answering 400', async () => {
    const before = await metric(/webhooks_total\{outcome="rejected"\} (\d+)/);
    const res = await post('{"version":"4","alerts":[{"status":"firing"}', { authorization: basic });
    expect(res.status).toBe(400);
    const rows = await db<{ payload: string }>(
      "select payload from webhook_deliveries where reason = 'body is not JSON'",
    );
    expect(rows).toEqual([{ payload: '{"version":"4","alerts":[{"status":"firing"}' }]);
    expect(await metric(/webhooks_total\{outcome="rejected"\} (\d+)/)).toBe(before + 1);
    expect(logs.some((l) => l.event === 'webhook_rejected' && l.reason === 'body is not JSON')).toBe(true);
  });

  it('refuses wrong webhook credentials with 401 and counts them', async () => {
    const before = await metric(/webhooks_total\{outcome="unauthorized"\} (\d+)/);
    const body = JSON.stringify(webhook([{ fingerprint: 'no-creds' }]));
    expect((await post(body)).status).toBe(401);
    expect((await post(body, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect(
      (await post(body, { authorization: `Basic ${Buffer.from('alertmanager:nope').toString('base64')}` }))
        .status,
    ).toBe(401);
    expect(await metric(/webhooks_total\{outcome="unauthorized"\} (\d+)/)).toBe(before + 3);
    expect(await db("select 1 from incidents where fingerprint = 'no-creds'")).toEqual([]);
  });

  it('takes deliveries from a real Alertmanager with http_config bearer and basic auth (WEBHOOK_BEARER_TOKEN, WEBHOOK_BASIC_AUTH_*)', async () => {
    const hook = `${router.url}/webhook/alertmanager`;
    const am = await startAlertmanager({
      config: `route:
  receiver: bearer
  group_by: [alertname]
  group_wait: 1s
  routes:
    - { receiver: bearer, continue: true }
    - { receiver: basic }
receivers:
  - name: bearer
    webhook_configs:
      - url: ${hook}
        http_config: { authorization: { type: Bearer, credentials: am-bearer } }
  - name: basic
    webhook_configs:
      - url: ${hook}
        http_config: { basic_auth: { username: alertmanager, password: s3cret } }
`,
    });
    try {
      await am.postAlerts([{ labels: { alertname: 'CredsCheck', router: 'edge-1', severity: 'warning' } }]);
      const receivers = await waitFor(
        'both Alertmanager receivers delivered',
        async () => {
          const rows = await db<{ receiver: string }>(
            "select distinct payload::jsonb->>'receiver' as receiver from webhook_deliveries where status = 'accepted' and group_key like '%CredsCheck%' order by 1",
          );
          return rows.length === 2 ? rows.map((r) => r.receiver) : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 200 },
      );
      expect(receivers).toEqual(['basic', 'bearer']);
      expect(await db("select 1 from incidents where alertname = 'CredsCheck'")).toHaveLength(1);
    } finally {
      await am.stop();
    }
  });
});

describe('settings from the environment', () => {
  it('reads webhook credentials, the body limit and the bootstrap token; refuses half a basic-auth pair', () => {
    expect(
      settingsFromEnv({
        DATABASE_URL: 'postgres://x/y',
        WEBHOOK_BASIC_AUTH_USERNAME: 'am',
        WEBHOOK_BASIC_AUTH_PASSWORD: 'pw',
        WEBHOOK_BEARER_TOKEN: 'tok',
        WEBHOOK_MAX_BYTES: '1048576',
        ALERT_ROUTER_ADMIN_TOKEN: 'adm',
      }),
    ).toEqual({
      databaseUrl: 'postgres://x/y',
      host: '0.0.0.0',
      port: 8080,
      webhookBasicAuth: { username: 'am', password: 'pw' },
      webhookBearerToken: 'tok',
      maxWebhookBytes: 1_048_576,
      adminToken: 'adm',
    });
    expect(() =>
      settingsFromEnv({ DATABASE_URL: 'postgres://x/y', WEBHOOK_BASIC_AUTH_USERNAME: 'am' }),
    ).toThrow('set together or not at all');
    expect(() => settingsFromEnv({})).toThrow('DATABASE_URL is required');
    expect(() => settingsFromEnv({ DATABASE_URL: 'postgres://x/y', WEBHOOK_MAX_BYTES: 'lots' })).toThrow(
      'WEBHOOK_MAX_BYTES',
    );
  });
});
