// What the billing benchmarks run on: billing with no jobs of its own (the benchmark drives them), and
// one router, five plans (10M..50M) and N customers, each with one active, synced subscription whose
// period ends 5 days after `at`, spread over 48 hours (so a cycle at `at` issues N renewal invoices and one
// 10 days later finds them all overdue). Set-based SQL: a million rows in seconds. Statistics are taken at
// the end, as a long-running database would have them.
import { pino } from 'pino';
import { cpuSecondsByPid } from '@ispmon/local-servers';
import { startRuntime, type Runtime, type RuntimeOptions } from '../dist/runtime.js';

/** Billing on `databaseUrl` on a free port, silent, its jobs off; `extra` adds or overrides options. */
export function startBenchRuntime(
  databaseUrl: string,
  extra: Partial<RuntimeOptions> = {},
): Promise<Runtime> {
  return startRuntime({
    databaseUrl,
    port: 0,
    logger: pino({ level: 'silent' }),
    encryptionKey: '0f'.repeat(32),
    jobs: { syncMs: 0, cycleMs: 0, pollMs: 0, driftMs: 0 },
    ...extra,
  });
}

/** The one method of MikroORM's EntityManager the benchmarks use. */
export interface Sql {
  execute(sql: string, params: unknown[], method: 'run' | 'all'): Promise<unknown>;
}

export interface SubscriberSeed {
  count: number;
  at: Date;
  /** Further customer columns, each an SQL expression over `i` (1..count), e.g. email for notices. */
  customerColumns?: Record<string, string>;
}

export async function seedSubscribers(em: Sql, seed: SubscriberSeed): Promise<void> {
  await em.execute(
    "insert into routers (name, host, api_port, username, password_enc) values ('bench-router', '127.0.0.1', 8728, 'admin', 'v1:x:x:x')",
    [],
    'run',
  );
  await em.execute(
    `insert into plans (code, name, kind, rate_limit, price_idr, validity_days, profile)
     select 'P' || i, 'Plan ' || i, 'pppoe', (i * 10) || 'M/' || (i * 10) || 'M', 100000 + i * 50000, 30, 'home-' || i from generate_series(1, 5) i`,
    [],
    'run',
  );
  const extra = Object.entries(seed.customerColumns ?? {});
  await em.execute(
    `insert into customers (code, name${extra.map(([column]) => `, ${column}`).join('')})
     select 'C' || lpad(i::text, 7, '0'), 'Customer ' || i${extra.map(([, sql]) => `, ${sql}`).join('')} from generate_series(1, ?) i`,
    [seed.count],
    'run',
  );
  await em.execute(
    `insert into subscriptions (customer_id, plan_id, router_id, ppp_username, ppp_password_enc, period_start, period_end, status, sync_state, synced_version, sync_version)
     select c.id, 1 + (c.id % 5), 1, 'user' || c.id, 'v1:x:x:x', ?::timestamptz - interval '25 days', ?::timestamptz + interval '5 days' + (c.id % 48) * interval '1 hour', 'active', 'synced', 1, 1
       from customers c`,
    [seed.at, seed.at],
    'run',
  );
  await em.execute('analyze', [], 'run');
}

/** CPU seconds so far of every process of the PostgreSQL server (backends and background workers). */
export async function postgresCpuSeconds(em: Sql): Promise<Map<number, number>> {
  const rows = (await em.execute('select pid from pg_stat_activity', [], 'all')) as Array<{ pid: number }>;
  return cpuSecondsByPid(rows.map((r) => r.pid));
}
