import { startPostgres, type PostgresServer } from '@ispmon/testkit';
import { openRouterDatabase } from './orm.js';
import { IncidentSchema } from './entities.js';

describe('alert-router database', () => {
  let pg: PostgresServer;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg.stop();
  });

  it('creates the schema by migration, idempotently, and reads incidents through the ORM', async () => {
    const url = await pg.createDatabase();
    const orm = await openRouterDatabase(url);
    await orm.migrator.up(); // second run: nothing to do
    const db = url.split('/').pop();
    const tables = await pg.query<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = 'public' order by 1",
      [],
      db,
    );
    expect(tables.map((t) => t.table_name)).toEqual([
      'api_tokens',
      'escalations',
      'incident_events',
      'incidents',
      'mikro_orm_migrations',
      'notification_attempts',
      'notifications',
      'webhook_deliveries',
    ]);
    await pg.query(
      "insert into incidents (fingerprint, starts_at, alertname, status, labels, first_seen_at, last_seen_at) values ('abc', now(), 'RouterDown', 'firing', '{\"router\":\"r1\"}', now(), now())",
      [],
      db,
    );
    const em = orm.em.fork();
    const found = await em.find(IncidentSchema, { alertname: 'RouterDown' });
    expect(found.map((i) => [i.fingerprint, i.labels.router, i.status])).toEqual([['abc', 'r1', 'firing']]);
    await orm.close();
  });
});
