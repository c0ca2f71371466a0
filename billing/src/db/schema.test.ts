// The migrations are the schema; the entities describe the CRUD tables. They must agree exactly:
// MikroORM's schema generator, comparing the entities with the migrated database, has nothing to change.
import { startPostgres, type PostgresServer } from '@ispmon/testkit';
import type { MikroORM } from '@mikro-orm/postgresql';
import { entities } from './entities.js';
import { openBillingDatabase } from './orm.js';

/** What the schema generator would change in the entities' tables (tables without an entity are left out). */
async function entityDiff(orm: MikroORM): Promise<string> {
  const mapped = new Set(entities.map((e) => e.meta.tableName));
  const tables = (await orm.em
    .fork()
    .execute("select tablename from pg_tables where schemaname = 'public'")) as Array<{ tablename: string }>;
  orm.config.get('schemaGenerator').skipTables = tables.map((t) => t.tablename).filter((t) => !mapped.has(t));
  return (await orm.schema.getUpdateSchemaSQL({ wrap: false, safe: false, dropTables: false })).trim();
}

describe('billing schema', () => {
  let pg: PostgresServer;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.stop();
  });

  it('migrations produce exactly the tables the entities describe, and a difference shows', async () => {
    const orm = await openBillingDatabase(await pg.createDatabase());
    try {
      expect(entities.map((e) => e.meta.tableName).sort()).toEqual([
        'client_links',
        'customers',
        'plans',
        'routers',
      ]);
      expect(await entityDiff(orm)).toBe('');
      // The comparison is live: a column, a default or a constraint the entities do not know is reported.
      await orm.em
        .fork()
        .execute("alter table customers add column fax text, alter column notes set default 'x'");
      await orm.em.fork().execute('alter table plans drop constraint plans_price_idr_check');
      const diff = await entityDiff(orm);
      expect(diff).toMatch(/alter table "customers" drop column "fax"/);
      expect(diff).toMatch(/"notes" set default ''/);
      expect(diff).toMatch(/add constraint "plans_price_idr_check" check \(price_idr >= 0\)/);
    } finally {
      await orm.close();
    }
  });
});
