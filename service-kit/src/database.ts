// The PostgreSQL services' database: one MikroORM (a pg pool underneath) with migrations applied at start,
// and one reading of "the database is unavailable" (→ 503 and retry) shared by every service.
import { Migrator } from '@mikro-orm/migrations';
import { MikroORM, type EntitySchema } from '@mikro-orm/postgresql';
import type { MigrationObject } from '@mikro-orm/core';
import pg from 'pg';

export interface DatabaseOptions {
  /** Entity schemas of the tables the service maps (may be empty). */
  entities: EntitySchema[];
  /** Migrations in order; applied in one transaction at start unless `migrate` is false. */
  migrationsList: MigrationObject[];
  migrate?: boolean;
  poolMax?: number;
}

export async function openDatabase(url: string, o: DatabaseOptions): Promise<MikroORM> {
  const orm = await MikroORM.init({
    clientUrl: url,
    entities: o.entities,
    extensions: [Migrator],
    migrations: {
      migrationsList: o.migrationsList,
      transactional: true,
      allOrNothing: true,
      tableName: 'mikro_orm_migrations',
      snapshot: false,
      silent: true,
    },
    pool: { min: 0, max: o.poolMax ?? 10 },
    debug: false,
    allowGlobalContext: false,
    discovery: { warnWhenNoEntities: false },
  });
  if (o.migrate ?? true) await migrateAlone(url, () => orm.migrator.up());
  return orm;
}

/** Replicas starting together migrate one after the other: the second waits, then finds nothing to apply. */
async function migrateAlone(url: string, migrate: () => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'ispmon migrations' });
  await client.connect();
  try {
    // A session lock: released by unlock, or by PostgreSQL if this process dies while migrating.
    await client.query("select pg_advisory_lock(hashtextextended('ispmon:migrations', 0))");
    await migrate();
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Network and server-state codes that mean "try again later", not "your request is wrong". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08006',
]);
const UNAVAILABLE_MESSAGE =
  /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down|in recovery mode)/i;

/** True when an error means the database cannot be reached right now (answer 503, keep the work). */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; message?: unknown; name?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
  if (e.name === 'ConnectionException') return true;
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGE.test(e.message)) return true;
  return e.cause !== undefined && e.cause !== err && isDatabaseUnavailable(e.cause);
}
