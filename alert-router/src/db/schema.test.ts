// The schema as the migrations build it on a real PostgreSQL: applied once, reversible, and carrying the
// constraints the SQL in ingest, the escalation worker and the outbox relies on (no entities are mapped).
import { startPostgres, type PostgresServer } from '@ispmon/testkit';
import type { MikroORM } from '@mikro-orm/postgresql';
import { openRouterDatabase } from './orm.js';
import { q } from './sql.js';

const TABLES = [
  'api_tokens',
  'escalations',
  'incident_events',
  'incidents',
  'mikro_orm_migrations',
  'notification_attempts',
  'notifications',
  'webhook_deliveries',
];

describe('alert-router schema (migrations on a real PostgreSQL)', () => {
  let pg: PostgresServer;
  let orm: MikroORM;
  const sql = <T extends Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> =>
    q<T>(orm.em.fork(), text, params);
  const failure = (text: string, params: unknown[] = []): Promise<{ code?: string }> =>
    sql(text, params).then(
      () => ({ code: 'no error' }),
      (e: unknown) => e as { code?: string },
    );

  beforeAll(async () => {
    pg = await startPostgres();
    orm = await openRouterDatabase(await pg.createDatabase());
  }, 120_000);
  afterAll(async () => {
    await orm?.close();
    await pg?.stop();
  });

  it('applies every migration once; a second start applies nothing', async () => {
    expect(await orm.migrator.up()).toEqual([]);
    const applied = await sql<{ name: string }>('select name from mikro_orm_migrations order by id');
    expect(applied.map((m) => m.name)).toEqual([
      '2026-11-22-initial',
      '2026-11-30-outbox',
      '2026-11-30-delivery-retention',
    ]);
    const tables = await sql<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = 'public' order by 1",
    );
    expect(tables.map((t) => t.table_name)).toEqual(TABLES);
  });

  it('keeps one incident per (fingerprint, startsAt) and one notification per dedupe key; rejects unknown states', async () => {
    const [incident] = await sql<{ id: string }>(
      "insert into incidents (fingerprint, starts_at, alertname, status, labels, first_seen_at, last_seen_at) values ('abc', '2026-11-30T08:00:00Z', 'RouterDown', 'firing', '{}', now(), now()) returning id",
    );
    expect(
      await failure(
        "insert into incidents (fingerprint, starts_at, alertname, status, labels, first_seen_at, last_seen_at) values ('abc', '2026-11-30T08:00:00Z', 'RouterDown', 'firing', '{}', now(), now())",
      ),
    ).toMatchObject({ code: '23505' }); // unique_violation: ingest's ON CONFLICT target
    const notify = (key: string, status = 'pending'): string =>
      `insert into notifications (incident_id, channel, kind, dedupe_key, status, next_attempt_at, created_at) values (${incident?.id}, 'ops', 'firing', '${key}', '${status}', now(), now())`;
    await sql(notify('k1'));
    expect(await failure(notify('k1'))).toMatchObject({ code: '23505' });
    await sql(notify('k2', 'superseded')); // added by the outbox migration
    expect(await failure(notify('k3', 'bogus'))).toMatchObject({ code: '23514' }); // check_violation
  });

  it('deletes an incident with its events, timer, notifications and attempts (retention relies on the cascade)', async () => {
    const [incident] = await sql<{ id: string }>(
      "insert into incidents (fingerprint, starts_at, alertname, status, labels, first_seen_at, last_seen_at) values ('old', '2026-01-01T00:00:00Z', 'LinkDown', 'resolved', '{}', now(), now()) returning id",
    );
    const id = incident?.id;
    await sql(
      "insert into incident_events (incident_id, at, type, detail) values (?, now(), 'created', '{}')",
      [id],
    );
    await sql(
      "insert into escalations (incident_id, policy, step, repeats, due_at, state) values (?, 'p', 0, 0, now(), 'active')",
      [id],
    );
    const [n] = await sql<{ id: string }>(
      "insert into notifications (incident_id, channel, kind, dedupe_key, status, next_attempt_at, created_at) values (?, 'ops', 'firing', 'old:1', 'sent', now(), now()) returning id",
      [id],
    );
    await sql('insert into notification_attempts (notification_id, at, ok) values (?, now(), true)', [n?.id]);
    await sql('delete from incidents where id = ?', [id]);
    const left = await sql<{ n: number }>(
      `select (select count(*) from incident_events where incident_id = ?)
            + (select count(*) from escalations where incident_id = ?)
            + (select count(*) from notifications where incident_id = ?)
            + (select count(*) from notification_attempts where notification_id = ?) as n`,
      [id, id, id, n?.id],
    );
    expect(Number(left[0]?.n)).toBe(0);
  });

  it('reverts the latest migrations and applies them again', async () => {
    await sql("delete from notifications where status = 'superseded'");
    const index = (): Promise<unknown[]> =>
      sql("select 1 from pg_indexes where indexname = 'webhook_deliveries_received_idx'");
    const column = (): Promise<unknown[]> =>
      sql(
        "select 1 from information_schema.columns where table_name = 'webhook_deliveries' and column_name = 'bytes'",
      );
    expect(await index()).toHaveLength(1);
    expect((await orm.migrator.down()).map((m) => m.name)).toEqual(['2026-11-30-delivery-retention']);
    expect(await index()).toHaveLength(0);
    expect((await orm.migrator.down()).map((m) => m.name)).toEqual(['2026-11-30-outbox']);
    expect(await column()).toHaveLength(0);
    expect((await orm.migrator.up()).map((m) => m.name)).toEqual([
      '2026-11-30-outbox',
      '2026-11-30-delivery-retention',
    ]);
    expect(await column()).toHaveLength(1);
    expect(await index()).toHaveLength(1);
  });
});
