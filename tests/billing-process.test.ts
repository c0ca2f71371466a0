// The billing service as operators run it: `node billing/dist/main.js` configured from the environment,
// refusing to start without its required settings, serving health and readiness, exiting 0 on SIGTERM.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, httpOk, startPostgres, waitFor, type PostgresServer } from '@ispmon/testkit';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'billing/dist/main.js');

function run(env: Record<string, string>): {
  exit: Promise<number | null>;
  output: () => string;
  kill: (s: NodeJS.Signals) => void;
} {
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return {
    exit: new Promise((r) => child.once('exit', (code) => r(code))),
    output: () => out,
    kill: (s) => child.kill(s),
  };
}

describe('billing process', () => {
  let pg: PostgresServer;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.stop();
  });

  it('refuses to start without DATABASE_URL or an encryption key, saying which', async () => {
    const a = run({});
    expect(await a.exit).toBe(2);
    expect(a.output()).toContain('DATABASE_URL is required');
    const b = run({ DATABASE_URL: await pg.createDatabase() });
    expect(await b.exit).toBe(2);
    expect(b.output()).toContain('BILLING_ENCRYPTION_KEY');
    const c = run({
      DATABASE_URL: await pg.createDatabase(),
      BILLING_ENCRYPTION_KEY: 'ab'.repeat(32),
      PORTAL_SECRET: 'too-short',
    });
    expect(await c.exit).toBe(2);
    expect(c.output()).toContain('PORTAL_SECRET must be at least 32 bytes');
    expect(c.output()).not.toContain('too-short');
  });

  it('refuses a PROMETHEUS_ENGINE it does not know, naming the choices', async () => {
    const p = run({
      DATABASE_URL: await pg.createDatabase(),
      BILLING_ENCRYPTION_KEY: 'ab'.repeat(32),
      PROMETHEUS_URL: 'http://127.0.0.1:9',
      PROMETHEUS_ENGINE: 'thanos',
    });
    expect(await p.exit).toBe(2);
    expect(p.output()).toContain(
      "PROMETHEUS_ENGINE must be prometheus, victoriametrics or auto, got 'thanos'",
    );
  });

  it('serves health and readiness with structured logs without secrets, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const databaseUrl = await pg.createDatabase();
    const p = run({
      DATABASE_URL: databaseUrl,
      BILLING_ENCRYPTION_KEY: 'ab'.repeat(32),
      BILLING_ADMIN_TOKEN: 'isb_secret-admin-token',
      MIDTRANS_SERVER_KEY: 'SB-Mid-server-secret-key',
      PORTAL_SECRET: 'portal-secret-never-in-the-logs-0123456789',
      PORTAL_PUBLIC_URL: `http://127.0.0.1:${port}`,
      PORT: String(port),
      HOST: '127.0.0.1',
      ISPMON_INVENTORY_DIR: join(root, '.tmp', `inventory-${port}`),
    });
    await waitFor('billing ready', () => httpOk(`http://127.0.0.1:${port}/readyz`), { timeoutMs: 30_000 });
    const me = await fetch(`http://127.0.0.1:${port}/api/v1/customers`, {
      headers: { authorization: 'Bearer isb_secret-admin-token' },
    });
    expect(me.status).toBe(200);
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, body: (await res.json()) as unknown };
    };
    expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await get('/readyz')).toEqual({ status: 200, body: { status: 'ready' } });
    // The isolation page is served without a token (nobody at this address: the neutral page).
    const portal = await fetch(`http://127.0.0.1:${port}/portal`);
    expect(portal.status).toBe(200);
    expect(await portal.text()).toContain('Tidak ada tagihan untuk ditampilkan');
    // Without its database billing is alive but not ready: the load balancer stops sending it requests.
    const db = new URL(databaseUrl).pathname.slice(1);
    await pg.query(`alter database "${db}" with allow_connections false`);
    await pg.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [db]);
    await waitFor(
      'readiness to fail without the database',
      async () => ((await get('/readyz')).status === 503 ? true : undefined),
      { timeoutMs: 15_000 },
    );
    expect(await get('/readyz')).toEqual({ status: 503, body: { status: 'database unavailable' } });
    expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    await pg.query(`alter database "${db}" with allow_connections true`);
    await waitFor(
      'readiness back with the database',
      async () => ((await get('/readyz')).status === 200 ? true : undefined),
      { timeoutMs: 15_000 },
    );
    p.kill('SIGTERM');
    expect(await p.exit).toBe(0);
    const lines = p.output().trim().split('\n');
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(p.output()).toContain('"event":"listening"');
    expect(p.output()).toContain('"event":"shutdown"');
    expect(p.output()).not.toContain('secret-admin-token');
    expect(p.output()).not.toContain('SB-Mid-server-secret-key');
    expect(p.output()).not.toContain('portal-secret-never-in-the-logs');
  }, 60_000);
});
