// Replicas of every service over one PostgreSQL (issue 16): two alert-router processes behind a clustered
// Alertmanager pair and two billing processes over lab RouterOS routers. One alert router is SIGKILLed while
// the pair delivers notifications; the billing process that holds the billing cycle is SIGKILLed while its
// cycle is mid-transaction. The sink counts notifications by Idempotency-Key: no alert lost, nothing sent
// twice but the one in flight at the kill. Billing: every renewal invoice issued once per period, every
// suspension once (audit too), the routers told once; the singleton job ran on one replica at a time.
// Shards and VictoriaMetrics are in shards.test.ts (together they would not fit this file's time budget).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startRouterLab, type RouterLab } from '@ispmon/lab';
import {
  freePort,
  startAlertmanager,
  startPostgres,
  waitFor,
  type AlertmanagerServer,
  type PostgresServer,
} from '@ispmon/testkit';
import { startNotificationSink, type NotificationSink } from '../support/notification-sink.js';
import { repoRoot } from '../support/paths.js';

const ROUTERS = 100; // lab routers, one subscriber each
const ALERTS = 100;
const ADMIN = 'replica-test-admin-token';
const CYCLE_LOCK = 727_001; // billing/src/cycle.ts: the cycle's transaction-level advisory lock

interface Answer {
  status: number;
  body: { id?: number } & Record<string, unknown>;
}

interface Replica {
  name: string;
  url: string;
  child: ChildProcess;
  output: () => string;
}

async function spawnReplica(name: string, main: string, env: Record<string, string>): Promise<Replica> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(repoRoot, main)], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (c: Buffer): void => void (out = (out + c.toString()).slice(-20_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { name, url: `http://127.0.0.1:${port}`, child, output: () => out };
}

async function ready(r: Replica): Promise<void> {
  await waitFor(
    `${r.name} ready`,
    async () => {
      if (r.child.exitCode !== null) throw new Error(`${r.name} exited: ${r.output()}`);
      return (await fetch(`${r.url}/readyz`).catch(() => undefined))?.ok ? true : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 100 },
  );
}

async function sigkill(r: Replica): Promise<void> {
  const exited = once(r.child, 'exit');
  r.child.kill('SIGKILL');
  await exited;
}

/** One sample of a metric with these labels from a replica's /metrics, or undefined. */
async function sample(r: Replica, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const text = await (await fetch(`${r.url}/metrics`)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.slice(0, l.indexOf('}')).includes(w)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function inParallel<T, R>(
  items: T[],
  width: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T, i);
    }),
  );
  return out;
}

describe('replicas of every service over one PostgreSQL, one of each SIGKILLed mid-work', () => {
  let pgServer: PostgresServer;
  let lab: RouterLab;
  let sink: NotificationSink;
  let dir = '';
  const alertmanagers: AlertmanagerServer[] = [];
  const replicas: Replica[] = [];
  const clients: pg.Client[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ispmon-replicas-'));
    [pgServer, lab] = await Promise.all([
      // Commits durable as in production (testkit turns synchronous_commit off for speed).
      startPostgres({ settings: { synchronous_commit: 'on' } }),
      // Billing only manages PPP secrets here: no seeded sessions to tick in this (the test's) process.
      startRouterLab({
        routers: Array.from({ length: ROUTERS }, (_, i) => ({
          name: `rep-${i}`,
          interfaces: 2,
          pppSessions: 0,
        })),
      }),
      startNotificationSink().then((s) => void (sink = s)),
    ]);
  }, 60_000);

  afterAll(async () => {
    for (const r of replicas)
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await Promise.all(alertmanagers.map((am) => am.stop()));
    await lab?.stop();
    await sink?.close();
    await pgServer?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loses no alert, sends nothing twice but the one in flight, and applies no billing job twice', async () => {
    const t0 = Date.now();
    const phases: string[] = [];
    const phase = (name: string): void =>
      void phases.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const [routerDb, billingDb] = await Promise.all([pgServer.createDatabase(), pgServer.createDatabase()]);
    const billingDbName = new URL(billingDb).pathname.slice(1);
    const routerDbName = new URL(routerDb).pathname.slice(1);
    writeFileSync(
      join(dir, 'router.yml'),
      [
        'delivery_timeout: 3s', // a send cut by the kill is re-sent by the survivor after its lease (2 × 3 s + 5 s)
        'channels:',
        `  sink: { type: webhook, url: "${sink.url}" }`,
        'policies:',
        '  - name: all',
        '    steps: [{ notify: [sink] }]',
      ].join('\n'),
    );
    // Both replicas of each service start at once over empty databases: migrations run once, in turn.
    const [a1, a2, b1, b2] = (await Promise.all([
      ...['alert-router-1', 'alert-router-2'].map((name) =>
        spawnReplica(name, 'alert-router/dist/main.js', {
          DATABASE_URL: routerDb,
          ALERT_ROUTER_CONFIG: join(dir, 'router.yml'),
          ALERT_ROUTER_ADMIN_TOKEN: ADMIN,
        }),
      ),
      ...['billing-1', 'billing-2'].map((name) =>
        spawnReplica(name, 'billing/dist/main.js', {
          DATABASE_URL: billingDb,
          BILLING_ENCRYPTION_KEY: 'cd'.repeat(32),
          BILLING_ADMIN_TOKEN: ADMIN,
          BILLING_CYCLE_INTERVAL_SECONDS: '1',
          ISPMON_INVENTORY_DIR: join(dir, `inventory-${name}`),
        }),
      ),
    ])) as [Replica, Replica, Replica, Replica];
    replicas.push(a1, a2, b1, b2);
    const [p1, p2] = [await freePort(), await freePort()];
    const amConfig = `route:
  receiver: routers
  group_by: [n]
  group_wait: 1s
  group_interval: 5m
  repeat_interval: 12h
receivers:
  - name: routers
    webhook_configs:
${[a1, a2].map((a) => `      - url: ${a.url}/webhook/alertmanager\n        send_resolved: false`).join('\n')}
`;
    const [am1, am2] = await Promise.all([
      startAlertmanager({ config: amConfig, cluster: { port: p1, peers: [p2] } }),
      startAlertmanager({ config: amConfig, cluster: { port: p2, peers: [p1] } }),
      ...replicas.map(ready),
    ]).catch(async (err: unknown) => {
      throw new Error(
        `${(err as Error).message}\n${replicas.map((r) => `--- ${r.name}\n${r.output()}`).join('\n')}`,
      );
    });
    alertmanagers.push(am1 as AlertmanagerServer, am2 as AlertmanagerServer);
    await waitFor(
      'the Alertmanager pair to gossip',
      async () => {
        const s = await (am1 as AlertmanagerServer).api<{ cluster: { status: string; peers: unknown[] } }>(
          '/status',
        );
        return s.cluster.status === 'ready' && s.cluster.peers.length === 2 ? true : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    phase('started');

    const alerts = async (): Promise<void> => {
      const startsAt = new Date(Date.now() - 60_000).toISOString(); // Prometheus sets it: same on both
      const batch = Array.from({ length: ALERTS }, (_, n) => ({
        startsAt,
        labels: { alertname: 'ReplicaBurst', n: String(n), severity: 'warning' },
        annotations: { summary: `burst ${n}` },
      }));
      await Promise.all(alertmanagers.map((am) => am.postAlerts(batch)));
      await waitFor(
        '20 incidents notified',
        async () => (sink.incidentsNotified.size >= 20 ? true : undefined),
        {
          timeoutMs: 30_000,
          intervalMs: 5,
        },
      );
      const atKill = sink.incidentsNotified.size;
      await sigkill(a1);
      phase(`alert-router-1 killed at ${atKill} notified`);
      expect(atKill).toBeLessThan(ALERTS);
      await waitFor(
        'every incident notified',
        async () => (sink.incidentsNotified.size === ALERTS ? true : undefined),
        {
          timeoutMs: 40_000,
          intervalMs: 50,
        },
      );
      await waitFor(
        'every notification recorded as sent',
        async () => {
          const [r] = await pgServer.query<{ sent: number; all: number }>(
            "select count(*) filter (where status = 'sent')::int as sent, count(*)::int as all from notifications",
            [],
            routerDbName,
          );
          return r?.all === ALERTS && r.sent === ALERTS ? true : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 100 },
      );
      phase('alerts done');
    };

    let billingSurvivor: Replica | undefined;
    const billing = async (): Promise<void> => {
      let turn = 0;
      // A load balancer's round robin over the two billing replicas.
      const api = async (method: string, path: string, body?: unknown): Promise<Answer> => {
        const r = [b1, b2][turn++ % 2] as Replica;
        const res = await fetch(`${r.url}/api/v1${path}`, {
          method,
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: res.status, body: (await res.json()) as Answer['body'] };
      };
      const created = (r: Answer, what: string): number => {
        if (r.status !== 201) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
        return r.body.id as number;
      };
      const plan = created(
        await api('POST', '/plans', {
          code: 'HOME10',
          name: 'Home 10 Mbps',
          kind: 'pppoe',
          rate_limit: '10M/10M',
          price_idr: 150000,
          validity_days: 30,
          profile: 'home-10M',
          isolation: 'profile',
        }),
        'plan',
      );
      await inParallel(lab.routers, 16, async (router, i) => {
        const routerId = created(
          await api('POST', '/routers', {
            name: router.name,
            host: router.host,
            api_port: router.port,
            username: router.username,
            password: router.password,
          }),
          `router ${i}`,
        );
        const customer = created(
          await api('POST', '/customers', {
            code: `R-${String(i).padStart(4, '0')}`,
            name: `Replica Customer ${i}`,
          }),
          `customer ${i}`,
        );
        created(
          await api('POST', '/subscriptions', {
            customer_id: customer,
            plan_id: plan,
            router_id: routerId,
            ppp_username: `rep${i}`,
            ppp_password: 'rahasia123',
          }),
          `subscription ${i}`,
        );
      });
      const billingQuery = <T extends Record<string, unknown>>(
        sql: string,
        params: unknown[] = [],
      ): Promise<T[]> => pgServer.query<T>(sql, params, billingDbName);
      await waitFor(
        'every subscription on its router',
        async () => {
          const [r] = await billingQuery<{ n: number }>(
            "select count(*)::int as n from subscriptions where sync_state = 'synced'",
          );
          return r?.n === ROUTERS ? true : undefined;
        },
        { timeoutMs: 40_000, intervalMs: 200 },
      );
      phase(`billing: ${ROUTERS} routers, customers, subscriptions synced`);

      const holderOf = async (job: string): Promise<Replica | undefined> => {
        const held = await Promise.all(
          [b1, b2]
            .filter((b) => b.child.exitCode === null && b.child.signalCode === null)
            .map(async (b) =>
              (await sample(b, 'ispmon_job_singleton_held', { job_name: job })) === 1 ? b : undefined,
            ),
        );
        const holders = held.filter((b) => b !== undefined);
        expect(holders.length).toBeLessThanOrEqual(1); // never two at once
        return holders[0];
      };
      const holder = await waitFor(
        'a billing replica to hold billing_cycle',
        () => holderOf('billing_cycle'),
        {
          timeoutMs: 10_000,
          intervalMs: 100,
        },
      );
      const other = holder === b1 ? b2 : b1;
      billingSurvivor = other;
      // Rounds so far: the holder ran the cycle every second, the other skipped every round.
      expect(
        await sample(holder, 'ispmon_job_rounds_total', { job_name: 'billing_cycle', outcome: 'ok' }),
      ).toBeGreaterThan(0);
      expect(
        await sample(other, 'ispmon_job_rounds_total', { job_name: 'billing_cycle', outcome: 'ok' }),
      ).toBe(0);
      expect(
        await sample(other, 'ispmon_job_rounds_total', { job_name: 'billing_cycle', outcome: 'skipped' }),
      ).toBeGreaterThan(0);

      // Catch the holder's next cycle mid-transaction: hold the cycle's own lock while every subscription's
      // period moves 40 days back (its renewal invoice issued and overdue, the subscription to be suspended),
      // and hold one subscription's row so the cycle stops inside its suspension step.
      const gate = new pg.Client({ connectionString: billingDb });
      const rowLock = new pg.Client({ connectionString: billingDb });
      clients.push(gate, rowLock);
      await Promise.all([gate.connect(), rowLock.connect()]);
      let activity: unknown[] = [];
      await gate.query('select pg_advisory_lock($1)', [CYCLE_LOCK]);
      const waiting = (pattern: string) =>
        waitFor(
          `a cycle waiting (${pattern})`,
          async () => {
            activity = await billingQuery<Record<string, unknown>>(
              "select application_name, state, wait_event_type, wait_event, left(query, 120) as query from pg_stat_activity where datname = $1 and state <> 'idle'",
              [billingDbName],
            );
            const [r] = await billingQuery<{ n: number }>(
              "select count(*)::int as n from pg_stat_activity where datname = $1 and wait_event_type = 'Lock' and query ilike $2",
              [billingDbName, `%${pattern}%`],
            );
            return (r?.n ?? 0) > 0 ? true : undefined;
          },
          { timeoutMs: 20_000, intervalMs: 20 },
        ).catch((err: unknown) => {
          throw new Error(`${(err as Error).message}; billing sessions: ${JSON.stringify(activity)}`);
        });
      await waiting('pg_advisory_xact_lock');
      await billingQuery(
        "update subscriptions set period_start = period_start - interval '40 days', period_end = period_end - interval '40 days'",
      );
      await billingQuery(
        "update invoices set period_start = period_start - interval '40 days', period_end = period_end - interval '40 days', issued_at = issued_at - interval '40 days', due_at = due_at - interval '40 days'",
      );
      await rowLock.query('begin');
      // NO KEY UPDATE: the renewal invoices' foreign-key checks pass, the suspension's FOR UPDATE waits.
      await rowLock.query('select id from subscriptions order by id desc limit 1 for no key update');
      await gate.query('select pg_advisory_unlock($1)', [CYCLE_LOCK]);
      await waiting('overdue invoice');
      // Renewals issued and invoices marked overdue inside the holder's open transaction.
      await sigkill(holder);
      phase(`${holder.name} killed mid-cycle`);
      // Its lock connection died with it: the survivor takes the job at its next tick, and its cycle waits for
      // the killed one's transaction (still open in PostgreSQL, blocked on the row) to end.
      await waitFor(
        'the survivor to take billing_cycle',
        async () => ((await holderOf('billing_cycle')) === other ? true : undefined),
        {
          timeoutMs: 10_000,
          intervalMs: 100,
        },
      );
      const [uncommitted] = await billingQuery<{ n: number }>(
        "select count(*)::int as n from invoices where kind = 'renewal'",
      );
      expect(uncommitted?.n).toBe(0);
      await rowLock.query('rollback'); // the killed cycle's statement ends, its reply finds no client: rolled back
      await waitFor(
        'every subscription suspended and on its router',
        async () => {
          const [r] = await billingQuery<{ n: number }>(
            "select count(*)::int as n from subscriptions where status = 'suspended' and sync_state = 'synced'",
          );
          return r?.n === ROUTERS ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      phase('billing done');

      // Once per period: one renewal invoice per subscription, numbers unique, issued, marked overdue and
      // suspended once each in the audit log.
      const [inv] = await billingQuery<{ renewals: number; subs: number; numbers: number }>(
        "select count(*)::int as renewals, count(distinct subscription_id)::int as subs, count(distinct number)::int as numbers from invoices where kind = 'renewal'",
      );
      expect(inv).toEqual({ renewals: ROUTERS, subs: ROUTERS, numbers: ROUTERS });
      const audit = await billingQuery<{ action: string; n: number; entities: number }>(
        "select action, count(*)::int as n, count(distinct entity_id)::int as entities from audit_log where action in ('suspend', 'overdue') or (action = 'issue' and reason = 'renewal') group by action order by action",
      );
      expect(audit).toEqual([
        { action: 'issue', n: ROUTERS, entities: ROUTERS },
        { action: 'overdue', n: 2 * ROUTERS, entities: 2 * ROUTERS }, // the first invoice and the renewal
        { action: 'suspend', n: ROUTERS, entities: ROUTERS },
      ]);
      // The routers follow: each subscriber's secret now carries its router's isolation profile.
      const isolation = new Map(
        (
          await billingQuery<{ name: string; isolation_profile: string }>(
            'select name, isolation_profile from routers',
          )
        ).map((r) => [r.name, r.isolation_profile]),
      );
      lab.routers.forEach((router, i) => {
        const secrets = router.secrets().filter((s) => s.name === `rep${i}`);
        expect(secrets.map((s) => s.profile)).toEqual([isolation.get(router.name)]);
      });
    };

    // On a failure, what the services had done and said (they log at warn).
    const explain = async (err: unknown): Promise<never> => {
      const state = await pgServer
        .query(
          "select (select count(*) from incidents) as incidents, (select json_object_agg(status, n) from (select status, count(*) as n from notifications group by status) x) as notifications, (select json_object_agg(coalesce(error, 'ok'), n) from (select error, count(*) as n from notification_attempts group by error) y) as attempts, (select count(*) from escalations where state = 'active' and due_at <= now()) as escalations_due",
          [],
          routerDbName,
        )
        .catch((e: unknown) => (e as Error).message);
      const logs = replicas.map((r) => `--- ${r.name}\n${r.output().slice(-3_000)}`).join('\n');
      throw new Error(
        `${(err as Error).message}\nalert router database: ${JSON.stringify(state)}\n${phases.join(', ')}\n${logs}`,
      );
    };
    // One after the other: on two shared cores, side by side they only slow each other down.
    await alerts().catch(explain);
    await billing().catch(explain);

    // Alerts: every incident once, its first step fired once across the two replicas, every notification
    // delivered, and a second delivery only for the one send in flight at the kill (or one that outlived
    // delivery_timeout on a starved machine, which the outbox retries by design and records as such).
    const [incidents] = await pgServer.query<{ n: number; distinct: number }>(
      'select count(*)::int as n, count(distinct fingerprint)::int as distinct from incidents',
      [],
      routerDbName,
    );
    expect(incidents).toEqual({ n: ALERTS, distinct: ALERTS });
    const [fired] = await pgServer.query<{ n: number; incidents: number }>(
      "select count(*)::int as n, count(distinct incident_id)::int as incidents from incident_events where type = 'notified'",
      [],
      routerDbName,
    );
    expect(fired).toEqual({ n: ALERTS, incidents: ALERTS });
    const [{ timeouts }] = (await pgServer.query<{ timeouts: number }>(
      "select count(*)::int as timeouts from notification_attempts where ok = false and error ~* 'abort|timeout'",
      [],
      routerDbName,
    )) as [{ timeouts: number }];
    const twice = [...sink.byKey.entries()].filter(([, c]) => c > 1);
    console.log(
      `${ROUTERS} lab routers, ${ALERTS} alerts: ${twice.length} notification(s) delivered twice, ${timeouts} send(s) timed out; ${phases.join(', ')}`,
    );
    expect(sink.byKey.size).toBe(ALERTS);
    expect(twice.length).toBeLessThanOrEqual(1 + timeouts);
    expect(twice.every(([, c]) => c === 2)).toBe(true);
    // The survivors stayed ready throughout; the killed replicas answer nothing (a load balancer drops them).
    for (const r of [a2, billingSurvivor as Replica])
      expect((await fetch(`${r.url}/readyz`)).status).toBe(200);
    await expect(fetch(`${a1.url}/readyz`)).rejects.toThrow();
  }, 240_000);
});
