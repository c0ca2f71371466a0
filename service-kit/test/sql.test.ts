import type { MikroORM } from '@mikro-orm/postgresql';
import { startPostgres, type PostgresServer } from '@ispmon/testkit';
import { openDatabase } from '../src/database.js';
import { executeStatement, numberPlaceholders, queryRows } from '../src/sql.js';

const MiB = 1024 * 1024;

describe('numberPlaceholders', () => {
  it('numbers each ? in order', () => {
    expect(numberPlaceholders('select * from t where a = ? and b in (?, ?)', 3)).toBe(
      'select * from t where a = $1 and b in ($2, $3)',
    );
  });

  it('leaves a ? inside a string literal, a quoted identifier or a comment alone', () => {
    expect(numberPlaceholders(`select '?' as "why?", ? as v -- what?\n, 'it''s ?' as w, ? as x`, 2)).toBe(
      `select '?' as "why?", $1 as v -- what?\n, 'it''s ?' as w, $2 as x`,
    );
  });

  it('refuses a statement whose placeholders and parameters differ in number', () => {
    expect(() => numberPlaceholders('select ?, ?', 1)).toThrow(/2 placeholders for 1 parameters/);
    expect(() => numberPlaceholders('select 1', 1)).toThrow(/0 placeholders for 1 parameters/);
  });
});

describe('queryRows and executeStatement on a real PostgreSQL', () => {
  let pg: PostgresServer;
  let orm: MikroORM;
  beforeAll(async () => {
    pg = await startPostgres();
    orm = await openDatabase(await pg.createDatabase(), { entities: [], migrationsList: [] });
    await queryRows(orm.em.fork(), 'create table notes (id serial primary key, body text not null)');
  }, 120_000);
  afterAll(async () => {
    await orm?.close();
    await pg?.stop();
  });

  it('sends parameters apart from the SQL text: the server sees $1, not the value', async () => {
    const value = "'); drop table notes; -- ? marker-7f3a";
    const [row] = await queryRows<{ v: string; sql: string }>(
      orm.em.fork(),
      'select ?::text as v, current_query() as sql',
      [value],
    );
    expect(row?.v).toBe(value);
    expect(row?.sql).toBe('select $1::text as v, current_query() as sql');
  });

  it('stores and reads back a 10 MiB value unchanged, and counts the rows a statement touched', async () => {
    const em = orm.em.fork();
    const body = `${'x'.repeat(10 * MiB)}'?\\`;
    const [inserted] = await queryRows<{ id: number }>(
      em,
      'insert into notes (body) values (?) returning id',
      [body],
    );
    const [back] = await queryRows<{ n: number; same: boolean }>(
      em,
      'select length(body) as n, body = ? as same from notes where id = ?',
      [body, inserted?.id],
    );
    expect(back).toEqual({ n: body.length, same: true });
    expect(
      await executeStatement(em, 'update notes set body = ? where id = ?', ['short', inserted?.id]),
    ).toBe(1);
    expect(await executeStatement(em, 'delete from notes where id = ?', [-1])).toBe(0);
  });

  it("runs inside the entity manager's open transaction", async () => {
    await expect(
      orm.em.fork().transactional(async (em) => {
        await executeStatement(em, 'insert into notes (body) values (?)', ['rolled back']);
        const inside = await queryRows(em, 'select id from notes where body = ?', ['rolled back']);
        expect(inside).toHaveLength(1);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await queryRows(orm.em.fork(), 'select id from notes where body = ?', ['rolled back'])).toEqual(
      [],
    );
  });
});
