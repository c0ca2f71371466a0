// A crash in the middle of a send: billing's built process (`dist/main.js`) delivers five SMS notices
// through the lab's gateway, which holds the first request; the process is killed with SIGKILL while it
// waits, and started again. Every notice arrives; only the one in flight arrives twice, with the same key.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMessageGateway, type MessageGateway } from '@ispmon/lab';
import { freePort, startPostgres, waitFor, type PostgresServer } from '@ispmon/testkit';
import { createPlan, registerRouter, startHarness, TEST_KEY, type Harness } from '../../test/harness.js';
import { parseNoticeConfig } from './config.js';
import { NoticeService } from './service.js';

describe('notices when billing dies mid-send', () => {
  let pg: PostgresServer;
  let t: Harness;
  let gateway: MessageGateway;
  let child: ChildProcess | undefined;
  let dir = '';

  beforeAll(async () => {
    pg = await startPostgres();
    gateway = await startMessageGateway();
    dir = mkdtempSync(join(tmpdir(), 'ispmon-notices-crash-'));
    const sms = {
      url: `${gateway.url}/sms`,
      token: gateway.token,
      auth_scheme: 'Bearer',
      body: { to: '{{to}}', message: '{{message}}' },
    };
    // The in-process billing only seeds and scans; the child process delivers.
    t = await startHarness(pg, {
      extensions: (deps) => [
        new NoticeService(deps, {
          config: parseNoticeConfig({ sms, scan_interval_seconds: 0, delivery_interval_seconds: 0 }, 'test'),
        }),
      ],
    });
    writeFileSync(
      join(dir, 'notices.yml'),
      JSON.stringify({
        sms,
        quiet_hours: null,
        scan_interval_seconds: 0,
        delivery_interval_seconds: 1,
        // The kill must land before the child gives up on the held send itself (1 s lost that race at load
        // 20+); a killed send is re-sent after its lease: 2 × 5 s + 5 s.
        delivery_timeout_seconds: 5,
      }),
    );
  }, 120_000); // PostgreSQL and billing start in seconds idle, far slower at load 20-30

  afterAll(async () => {
    child?.kill('SIGKILL');
    await t?.stop();
    await gateway?.close();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('repeats at most the notice in flight, with its key', async () => {
    t.clock.now = new Date();
    const routerId = await registerRouter(t, 'core-crash', {
      host: '127.0.0.1',
      port: 9,
      username: 'api',
      password: 'x',
    });
    const planId = await createPlan(t, {
      code: 'HOME5',
      name: 'Home 5 Mbps',
      kind: 'pppoe',
      rate_limit: '5M/5M',
      price_idr: 100000,
      validity_days: 30,
      profile: 'home-5M',
    });
    for (let i = 1; i <= 5; i++) {
      const c = await t.call('POST', '/api/v1/customers', {
        code: `K-${i}`,
        name: `Kilat ${i}`,
        phone: `08129000000${i}`,
      });
      const s = await t.call('POST', '/api/v1/subscriptions', {
        customer_id: c.body.id,
        plan_id: planId,
        router_id: routerId,
        ppp_username: `kilat${i}`,
      });
      expect(s.status).toBe(201);
    }
    const scan = await t.runtime.extensions
      .find((e): e is NoticeService => e instanceof NoticeService)
      ?.scan();
    expect(scan?.queued).toEqual({ invoice_issued: 5 });
    const notices = async () =>
      (await t.runtime.orm.em
        .fork()
        .execute('select id, status, attempts from notices order by id', [], 'all')) as Array<{
        id: string;
        status: string;
        attempts: number;
      }>;

    const port = await freePort();
    const start = (): ChildProcess =>
      spawn(process.execPath, [fileURLToPath(new URL('../../dist/main.js', import.meta.url))], {
        env: {
          ...process.env,
          DATABASE_URL: t.runtime.orm.config.get('clientUrl'),
          BILLING_ENCRYPTION_KEY: TEST_KEY,
          PORT: String(port),
          HOST: '127.0.0.1',
          LOG_LEVEL: process.env.NOTICES_CRASH_LOG ? 'debug' : 'silent',
          ISPMON_INVENTORY_DIR: join(dir, 'inventory'),
          BILLING_NOTICES: join(dir, 'notices.yml'),
          BILLING_CYCLE_INTERVAL_SECONDS: '86400',
        },
        stdio: [
          'ignore',
          process.env.NOTICES_CRASH_LOG ? openSync(process.env.NOTICES_CRASH_LOG, 'a') : 'ignore',
          'inherit',
        ],
      });
    gateway.hold();
    child = start();
    await waitFor(
      'the first notice held by the gateway',
      async () => (gateway.held === 1 ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 20 }, // the child starts and migrates first: seconds idle, more loaded
    );
    const dying = child;
    const exited = once(dying, 'exit');
    dying.kill('SIGKILL');
    await exited;
    gateway.release(); // the gateway had the message: it counts as delivered once
    child = start();
    await waitFor(
      'all five notices sent',
      async () => ((await notices()).every((n) => n.status === 'sent') ? true : undefined),
      { timeoutMs: 90_000, intervalMs: 100 }, // the child starts again, the 15 s lease, then four sends
    );
    const rows = await notices();
    const byKey = new Map<string, number>();
    for (const m of gateway.received) byKey.set(m.key ?? '', (byKey.get(m.key ?? '') ?? 0) + 1);
    expect([...byKey.keys()].sort()).toEqual(rows.map((r) => `ispmon-notice-${r.id}`).sort());
    const twice = [...byKey].filter(([, n]) => n > 1);
    expect(twice).toEqual([[`ispmon-notice-${rows[0]?.id}`, 2]]);
    expect(rows.map((r) => r.attempts)).toEqual([2, 1, 1, 1, 1]);
  }, 240_000); // two starts of the built child and the 15 s lease: the file took 191 s at load 20-30
});
