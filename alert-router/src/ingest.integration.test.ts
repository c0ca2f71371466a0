// Ingest of repeats and resolutions, set-based: a repeat seconds later (HA peer, retry) only marks the
// incident seen; a repeat after a quiet minute is a 'renotified' event; one delivery resolving several
// incidents resolves each with Alertmanager's endsAt, stops its escalation and queues its resolution
// notice per channel that had a firing notice.
import { pino } from 'pino';
import { startPostgres, type PostgresServer } from '@ispmon/testkit';
import { webhook } from '../test/fixtures.js';
import { startRuntime, type Runtime } from './runtime.js';

describe('ingest of known incidents', () => {
  let pg: PostgresServer;
  let router: Runtime;
  let dbName = '';
  let now = new Date('2026-11-22T03:00:00Z');
  const db = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> =>
    pg.query<T>(sql, params, dbName);
  const post = async (body: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${router.url}/webhook/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  };
  const events = async (fingerprint: string): Promise<Array<{ type: string; detail: unknown }>> =>
    db(
      `select e.type, e.detail from incident_events e join incidents i on i.id = e.incident_id
        where i.fingerprint = $1 order by e.id`,
      [fingerprint],
    );

  beforeAll(async () => {
    pg = await startPostgres();
    const url = await pg.createDatabase();
    dbName = url.split('/').pop() ?? '';
    router = await startRuntime({
      databaseUrl: url,
      port: 0,
      logger: pino({ level: 'silent' }),
      pollMs: 0,
      clock: () => now,
      configText:
        'channels:\n  hook: { type: webhook, url: "http://127.0.0.1:9/x" }\npolicies:\n  - name: all\n    match: { team: noc }\n    steps: [{ notify: [hook], wait: 5m }, { notify: [hook] }]\n',
    });
  }, 120_000);

  afterAll(async () => {
    await router?.stop();
    await pg?.stop();
  });

  it('marks a repeat seen, records a repeat after a quiet minute as renotified, and takes new annotations', async () => {
    now = new Date('2026-11-22T03:00:00Z');
    expect(await post(webhook([{ fingerprint: 'rep-1' }]))).toMatchObject({ created: 1, resolved: 0 });
    now = new Date('2026-11-22T03:00:20Z');
    expect(await post(webhook([{ fingerprint: 'rep-1' }]))).toMatchObject({ created: 0, resolved: 0 });
    expect((await events('rep-1')).map((e) => e.type)).toEqual(['fired']);
    now = new Date('2026-11-22T03:01:30Z');
    await post(webhook([{ fingerprint: 'rep-1', annotations: { summary: 'still down' } }]));
    expect((await events('rep-1')).map((e) => e.type)).toEqual(['fired', 'renotified']);
    const [row] = await db<{ last_seen_at: Date; summary: string; status: string }>(
      "select last_seen_at, annotations->>'summary' as summary, status from incidents where fingerprint = 'rep-1'",
    );
    expect(row).toEqual({ last_seen_at: now, summary: 'still down', status: 'firing' });
  });

  it('resolves several incidents of one delivery, each with its endsAt, its escalation stopped and one resolution notice', async () => {
    now = new Date('2026-11-22T04:00:00Z');
    await post(webhook([{ fingerprint: 'res-1' }, { fingerprint: 'res-2' }, { fingerprint: 'res-3' }]));
    await router.work(now, { deliver: false }); // the first step queues a firing notice for each
    now = new Date('2026-11-22T04:10:00Z');
    const r = await post(
      webhook([
        { fingerprint: 'res-1', status: 'resolved', endsAt: '2026-11-22T04:09:00.000Z' },
        { fingerprint: 'res-2', status: 'resolved', endsAt: '2026-11-22T04:09:30.000Z' },
        { fingerprint: 'res-3' },
      ]),
    );
    expect(r).toMatchObject({ created: 0, resolved: 2 });
    const rows = await db<{ fingerprint: string; status: string; ends_at: Date | null; state: string }>(
      `select i.fingerprint, i.status, i.ends_at, e.state from incidents i join escalations e on e.incident_id = i.id
        where i.fingerprint like 'res-%' order by i.fingerprint`,
    );
    expect(rows).toEqual([
      {
        fingerprint: 'res-1',
        status: 'resolved',
        ends_at: new Date('2026-11-22T04:09:00Z'),
        state: 'stopped',
      },
      {
        fingerprint: 'res-2',
        status: 'resolved',
        ends_at: new Date('2026-11-22T04:09:30Z'),
        state: 'stopped',
      },
      { fingerprint: 'res-3', status: 'firing', ends_at: null, state: 'active' },
    ]);
    expect((await events('res-2')).at(-1)).toEqual({
      type: 'resolved',
      detail: { endsAt: '2026-11-22T04:09:30.000Z' },
    });
    const notices = await db<{ fingerprint: string; kind: string; status: string; dedupe_key: string }>(
      `select i.fingerprint, n.kind, n.status, n.dedupe_key from notifications n join incidents i on i.id = n.incident_id
        where i.fingerprint like 'res-%' order by i.fingerprint, n.kind`,
    );
    const ids = await db<{ fingerprint: string; id: string }>(
      "select fingerprint, id::text as id from incidents where fingerprint like 'res-%'",
    );
    const idOf = new Map(ids.map((i) => [i.fingerprint, i.id]));
    expect(notices).toEqual([
      { fingerprint: 'res-1', kind: 'firing', status: 'superseded', dedupe_key: expect.any(String) },
      {
        fingerprint: 'res-1',
        kind: 'resolved',
        status: 'pending',
        dedupe_key: `${idOf.get('res-1')}:resolved:hook`,
      },
      { fingerprint: 'res-2', kind: 'firing', status: 'superseded', dedupe_key: expect.any(String) },
      {
        fingerprint: 'res-2',
        kind: 'resolved',
        status: 'pending',
        dedupe_key: `${idOf.get('res-2')}:resolved:hook`,
      },
      { fingerprint: 'res-3', kind: 'firing', status: 'pending', dedupe_key: expect.any(String) },
    ]);
    // The same resolution delivered again (the HA peer) changes nothing.
    expect(
      await post(webhook([{ fingerprint: 'res-1', status: 'resolved', endsAt: '2026-11-22T04:09:00.000Z' }])),
    ).toMatchObject({ created: 0, resolved: 0 });
    expect((await events('res-1')).filter((e) => e.type === 'resolved')).toHaveLength(1);
  });
});
