// Fault test: two real Alertmanagers (an HA pair without gossip, so both deliver every group) send 150
// alerts to the alert router process; while it delivers the notifications it is killed with SIGKILL
// three times and restarted, and PostgreSQL is restarted immediately (SIGQUIT, no checkpoint) once.
// The receiver counts deliveries by notification key (Idempotency-Key): no alert may be lost, and
// nothing may arrive twice except the one notification in flight at each kill.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  startAlertmanager,
  startPostgres,
  waitFor,
  type AlertmanagerServer,
  type PostgresServer,
} from '@ispmon/testkit';
import { startNotificationSink, type NotificationSink } from './support/notification-sink.js';
import { repoRoot } from './support/paths.js';

describe('alert router under SIGKILLs and a PostgreSQL restart, fed by an Alertmanager pair', () => {
  let pg: PostgresServer;
  let receiver: NotificationSink;
  let child: ChildProcess | undefined;
  const alertmanagers: AlertmanagerServer[] = [];
  let dir = '';

  beforeAll(async () => {
    // Commits durable as in production (testkit turns synchronous_commit off for speed, and then an
    // immediate restart forgets commits already acknowledged).
    pg = await startPostgres({ settings: { synchronous_commit: 'on' } });
    receiver = await startNotificationSink();
    dir = mkdtempSync(join(tmpdir(), 'ispmon-ar-fault-'));
  }, 120_000);
  afterAll(async () => {
    child?.kill('SIGKILL');
    await Promise.all(alertmanagers.map((am) => am.stop()));
    await receiver?.close();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no alert and delivers nothing twice except the one in flight at each kill', async () => {
    const databaseUrl = await pg.createDatabase();
    const db = databaseUrl.split('/').pop();
    const port = await freePort();
    writeFileSync(
      join(dir, 'config.yml'),
      [
        'delivery_timeout: 3s', // a killed send is re-sent after its lease: 2 × 3 s + 5 s
        'channels:',
        `  sink: { type: webhook, url: "${receiver.url}" }`,
        'policies:',
        '  - name: all',
        '    steps: [{ notify: [sink] }]',
      ].join('\n'),
    );
    const start = (): ChildProcess =>
      spawn(process.execPath, [join(repoRoot, 'alert-router/dist/main.js')], {
        env: {
          ...process.env,
          DATABASE_URL: databaseUrl,
          PORT: String(port),
          HOST: '127.0.0.1',
          ALERT_ROUTER_CONFIG: join(dir, 'config.yml'),
          ALERT_ROUTER_ADMIN_TOKEN: 'bootstrap-secret',
          LOG_LEVEL: 'silent',
        },
        stdio: 'ignore',
      });
    const ready = (): Promise<true> =>
      waitFor(
        'alert router ready',
        async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined),
        { timeoutMs: 30_000, intervalMs: 50 },
      );
    const kill = async (): Promise<void> => {
      const dying = child as ChildProcess;
      const exited = once(dying, 'exit');
      dying.kill('SIGKILL');
      await exited;
      child = start();
      await ready();
    };
    const t0 = Date.now();
    const phases: string[] = [];
    const phase = (name: string): void =>
      void phases.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    child = start();
    await ready();
    phase('ready');
    // The bootstrap admin token exists before the server answers anything.
    const api = await fetch(`http://127.0.0.1:${port}/api/v1/incidents`, {
      headers: { authorization: 'Bearer bootstrap-secret' },
    });
    expect(api.status).toBe(200);

    const amConfig = `route:
  receiver: router
  group_by: [n]
  group_wait: 1s
  group_interval: 5m
  repeat_interval: 12h
receivers:
  - name: router
    webhook_configs:
      - url: http://127.0.0.1:${port}/webhook/alertmanager
        send_resolved: false
`;
    alertmanagers.push(...(await Promise.all([0, 1].map(() => startAlertmanager({ config: amConfig })))));
    const total = 150;
    // Prometheus sets startsAt, so both Alertmanagers of the pair carry the same one.
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    const alerts = Array.from({ length: total }, (_, n) => ({
      startsAt,
      labels: { alertname: 'Burst', n: String(n), severity: 'warning' },
      annotations: { summary: `burst ${n}` },
    }));
    phase('alertmanagers');
    await Promise.all(alertmanagers.map((am) => am.postAlerts(alerts)));

    const deliveredAt: number[] = [];
    const when = (n: number): Promise<true> =>
      waitFor(
        `${n} incidents notified`,
        async () => (receiver.incidentsNotified.size >= n ? true : undefined),
        {
          timeoutMs: 60_000,
          intervalMs: 5,
        },
      );
    await when(20);
    phase('20');
    deliveredAt.push(receiver.incidentsNotified.size);
    await kill();
    await when(55);
    phase('55');
    deliveredAt.push(receiver.incidentsNotified.size);
    await kill();
    await when(85);
    phase('85');
    deliveredAt.push(receiver.incidentsNotified.size);
    await pg.crash();
    await pg.start();
    await when(115);
    phase('115');
    deliveredAt.push(receiver.incidentsNotified.size);
    await kill();
    phase('last kill');
    // Every fault happened while notifications were still going out.
    for (const n of deliveredAt) expect(n).toBeLessThan(total);

    const faultsDone = Date.now();
    await waitFor(
      'every incident notified',
      async () => (receiver.incidentsNotified.size === total ? true : undefined),
      {
        timeoutMs: 60_000,
        intervalMs: 100,
      },
    );
    const [{ incidents, distinct }] = (await pg.query<{ incidents: string; distinct: string }>(
      'select count(*) as incidents, count(distinct fingerprint) as distinct from incidents',
      [],
      db,
    )) as [{ incidents: string; distinct: string }];
    expect({ incidents: Number(incidents), distinct: Number(distinct) }).toEqual({
      incidents: total,
      distinct: total,
    });
    const rows = await waitFor(
      'every notification recorded as sent',
      async () => {
        const r = await pg.query<{ id: string; status: string; attempts: number }>(
          'select id, status, attempts from notifications order by id',
          [],
          db,
        );
        return r.length === total && r.every((x) => x.status === 'sent') ? r : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const kills = 3;
    const twice = [...receiver.byKey.entries()].filter(([, c]) => c > 1);
    // A send that reached the receiver but outlived delivery_timeout (a starved machine) is retried by
    // design; it is counted apart, from the attempts recorded as timed out.
    const [{ timeouts }] = (await pg.query<{ timeouts: number }>(
      "select count(*)::int as timeouts from notification_attempts where ok = false and error ~* 'abort|timeout'",
      [],
      db,
    )) as [{ timeouts: number }];
    console.log(
      `faults at ${deliveredAt.join(', ')} incidents notified; all notified ${Date.now() - faultsDone} ms after the last fault; ${twice.length} delivered twice; ${timeouts} sends timed out; ${phases.join(', ')}`,
    );
    expect(receiver.keyMismatches).toEqual([]);
    expect(receiver.byKey.size).toBe(total);
    expect(twice.length).toBeLessThanOrEqual(kills + timeouts);
    expect(twice.every(([, c]) => c === 2)).toBe(true);
    // attempts counts real attempts: at least what the receiver saw, and more only for a send cut by a kill.
    let unseen = 0;
    for (const r of rows) {
      const seen = receiver.byKey.get(`ispmon-${r.id}`) ?? 0;
      expect(r.attempts).toBeGreaterThanOrEqual(seen);
      unseen += r.attempts - seen;
    }
    expect(unseen + twice.length).toBeLessThanOrEqual(kills + timeouts);
  }, 180_000);
});
