// Billing's SQL helpers bind their parameters: the value never becomes part of the SQL text PostgreSQL
// parses (MikroORM's `em.execute` inlines it, which cost seconds per statement for a 10 MiB value).
import type { MikroORM } from '@mikro-orm/postgresql';
import { startPostgres, type PostgresServer } from '@ispmon/testkit';
import { openBillingDatabase } from '../src/db/orm.js';
import { audit, exec, one, q, tx } from '../src/db/sql.js';

const SQL_LOOKING = "x'); delete from audit_log; -- ? ?? $1";

describe("billing's SQL helpers on a real PostgreSQL", () => {
  let pg: PostgresServer;
  let orm: MikroORM;
  beforeAll(async () => {
    pg = await startPostgres();
    orm = await openBillingDatabase(await pg.createDatabase());
  });
  afterAll(async () => {
    await orm?.close();
    await pg?.stop();
  });

  it('q and one send the values apart from the statement: the server sees $1 and $2', async () => {
    const rows = await q<{ v: string; n: number; sql: string }>(
      orm.em.fork(),
      'select ?::text as v, ?::int as n, current_query() as sql',
      [SQL_LOOKING, 7],
    );
    expect(rows).toEqual([
      { v: SQL_LOOKING, n: 7, sql: 'select $1::text as v, $2::int as n, current_query() as sql' },
    ]);
    const row = await one<{ sql: string }>(orm.em.fork(), 'select current_query() as sql where ? = 1', [1]);
    expect(row?.sql).toBe('select current_query() as sql where $1 = 1');
  });

  it('exec binds too, and answers how many rows the statement wrote', async () => {
    const written = await tx(orm, (em) =>
      exec(
        em,
        "insert into audit_log (at, actor, entity, entity_id, action, reason) values (now(), ?, 'test', '1', 'bind', current_query())",
        [SQL_LOOKING],
      ),
    );
    expect(written).toBe(1);
    const row = await one<{ actor: string; reason: string }>(
      orm.em.fork(),
      "select actor, reason from audit_log where action = 'bind'",
    );
    expect(row?.actor).toBe(SQL_LOOKING);
    expect(row?.reason).toContain("values (now(), $1, 'test'");
    expect(row?.reason).not.toContain('delete from audit_log');
  });

  it('audit keeps a large, SQL-looking reason and detail exactly as given', async () => {
    const reason = `${SQL_LOOKING} ${'r'.repeat(2 * 1024 * 1024)}`;
    const detail = { note: SQL_LOOKING, list: Array.from({ length: 20_000 }, (_, i) => `item-${i}?`) };
    await tx(orm, (em) =>
      audit(em, new Date('2026-11-30T12:00:00Z'), {
        actor: 'test',
        entity: 'invoices',
        entityId: 42n,
        action: 'large',
        reason,
        detail,
      }),
    );
    const row = await one<{ reason: string; detail: unknown; entity_id: string; at: string }>(
      orm.em.fork(),
      "select reason, detail, entity_id, at from audit_log where action = 'large'",
    );
    expect(row?.reason === reason).toBe(true);
    expect(row?.detail).toEqual(detail);
    expect(row?.entity_id).toBe('42');
    expect(new Date(row?.at ?? 0).toISOString()).toBe('2026-11-30T12:00:00.000Z');
  });
});
