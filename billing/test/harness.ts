// Test harness: billing on a real PostgreSQL database, the lab's Midtrans stand-in (its payment page
// notifies this billing), a controllable clock, and a small authenticated HTTP client.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startMidtransFake, type MidtransFake } from '@ispmon/lab';
import type { PostgresServer } from '@ispmon/testkit';
import { startRuntime, type Runtime, type RuntimeOptions } from '../src/runtime.js';
import { issueToken } from '../src/tokens.js';

export const TEST_KEY = '0f'.repeat(32);
export const SERVER_KEY = 'SB-Mid-server-ispmon-test';

export interface Harness {
  runtime: Runtime;
  midtrans: MidtransFake;
  inventoryDir: string;
  clock: { now: Date };
  tokens: { admin: string; billing: string; viewer: string };
  call(
    method: string,
    path: string,
    body?: unknown,
    token?: string | null,
  ): Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  stop(): Promise<void>;
}

export async function startHarness(
  pg: PostgresServer,
  extra: Partial<RuntimeOptions> = {},
  /** `midtransHost`: the stand-in's loopback address (127.0.0.1), e.g. to keep it apart from billing's. */
  lab: { midtransHost?: string } = {},
): Promise<Harness> {
  const url = await pg.createDatabase();
  const midtrans = await startMidtransFake({
    serverKey: SERVER_KEY,
    ...(lab.midtransHost ? { host: lab.midtransHost } : {}),
  });
  const inventoryDir = mkdtempSync(join(tmpdir(), 'ispmon-billing-inv-'));
  const clock = { now: new Date('2026-03-01T00:00:00Z') };
  const runtime = await startRuntime({
    databaseUrl: url,
    port: 0,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    encryptionKey: TEST_KEY,
    inventoryDir,
    midtrans: {
      serverKey: SERVER_KEY,
      isProduction: false,
      snapBaseUrl: midtrans.snapUrl,
      coreBaseUrl: midtrans.url,
    },
    clock: () => clock.now,
    jobs: { syncMs: 0, cycleMs: 0, pollMs: 0, driftMs: 0 },
    ...extra,
  });
  midtrans.notificationUrl = `${runtime.url}/payments/midtrans/notification`;
  const tokens = {
    admin: await issueToken(runtime.orm, 'ana.admin', 'admin'),
    billing: await issueToken(runtime.orm, 'budi.billing', 'billing'),
    viewer: await issueToken(runtime.orm, 'vina.viewer', 'viewer'),
  };
  return {
    runtime,
    midtrans,
    inventoryDir,
    clock,
    tokens,
    async call(method, path, body, token = tokens.billing) {
      const res = await fetch(`${runtime.url}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON
      }
      return { status: res.status, body: parsed as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
    },
    async stop() {
      await runtime.stop(1_000);
      await midtrans.close();
    },
  };
}

/** Registers a RouterOS router (a lab simulator, or an address nothing answers on) with billing as the
 * admin, at site `jkt` unless told; its id. A non-201 throws with the body. */
export async function registerRouter(
  t: Harness,
  name: string,
  r: { host: string; port: number; username: string; password: string; site?: string },
): Promise<number> {
  const res = await t.call(
    'POST',
    '/api/v1/routers',
    {
      name,
      host: r.host,
      api_port: r.port,
      username: r.username,
      password: r.password,
      site: r.site ?? 'jkt',
    },
    t.tokens.admin,
  );
  if (res.status !== 201) throw new Error(`router ${name}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as number;
}

/** The plan most tests sell: Home 10 Mbps, Rp 150,000 for 30 days on PPP profile home-10M. */
export const HOME10 = {
  code: 'HOME10',
  name: 'Home 10 Mbps',
  kind: 'pppoe',
  rate_limit: '10M/10M',
  price_idr: 150000,
  validity_days: 30,
  profile: 'home-10M',
} as const;

/** Creates a plan (POST /api/v1/plans as billing); its id. A non-201 throws with the body. */
export async function createPlan(t: Harness, plan: Record<string, unknown>): Promise<number> {
  const res = await t.call('POST', '/api/v1/plans', plan);
  if (res.status !== 201)
    throw new Error(`plan ${String(plan.code)}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as number;
}

/** Asks billing, as the admin, to repair a router's drift (POST …/reconcile {repair: true}); the answer. */
export function repairRouter(t: Harness, routerId: number): ReturnType<Harness['call']> {
  return t.call('POST', `/api/v1/routers/${routerId}/reconcile`, { repair: true }, t.tokens.admin);
}
