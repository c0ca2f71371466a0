// The outbox against a real PostgreSQL: every send carries its stable key, `attempts` counts real
// attempts, and a resolution is handled for every state the firing notice can be in (pending, failing,
// in flight at a slow receiver, sent, dead). Each test uses its own alert name and receiver path.
import { pino } from 'pino';
import { startPostgres, waitFor, type PostgresServer } from '@ispmon/testkit';
import { webhook } from '../../test/fixtures.js';
import { startReceiver, type Receiver, type Received } from '../../test/receiver.js';
import { startRuntime, type Runtime } from '../runtime.js';
import { createToken } from '../tokens.js';

interface Sent {
  kind: string;
  notification: { id: string; key: string; step: number | null; repeat: number | null };
  firingDelivered?: boolean;
  incident: { id: string };
}

describe('notification outbox and resolution semantics', () => {
  let pg: PostgresServer;
  let router: Runtime;
  let receiver: Receiver;
  let dbName = '';
  let operator = '';
  const now = new Date('2026-11-30T08:00:00Z');
  let releaseSlow: (() => void) | undefined;
  const failingSeen = { n: 0 };

  const db = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> =>
    pg.query<T>(sql, params, dbName);
  const post = async (body: unknown): Promise<void> => {
    const res = await fetch(`${router.url}/webhook/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
  };
  const alert = (name: string, status: 'firing' | 'resolved' = 'firing'): Record<string, unknown> =>
    webhook([
      {
        fingerprint: `fp-${name}`,
        status,
        labels: { alertname: name, severity: 'warning' },
        ...(status === 'resolved' ? { endsAt: '2026-11-30T08:30:00Z' } : {}),
      },
    ]);
  const at = (path: string): Received[] => receiver.received.filter((r) => r.path === path);
  const sent = (r: Received | undefined): Sent => JSON.parse(r?.body ?? '{}') as Sent;
  const notifications = (name: string) =>
    db<{ id: string; kind: string; status: string; attempts: number; step: number | null }>(
      `select n.id, n.kind, n.status, n.attempts, n.step from notifications n join incidents i on i.id = n.incident_id
        where i.alertname = $1 order by n.id`,
      [name],
    );

  beforeAll(async () => {
    pg = await startPostgres();
    const url = await pg.createDatabase();
    dbName = url.split('/').pop() ?? '';
    receiver = await startReceiver(async (r) => {
      const kind = (JSON.parse(r.body) as { kind: string }).kind;
      if (r.path === '/failing' && kind === 'firing' && ++failingSeen.n === 1)
        return { status: 503, body: 'down' };
      if (r.path === '/dead' && kind === 'firing') return { status: 400, body: 'bad chat' };
      if (r.path === '/slow' && kind === 'firing')
        await new Promise<void>((resolve) => (releaseSlow = resolve));
      return { status: 200 };
    });
    const channels = ['pending', 'failing', 'slow', 'sent', 'dead'];
    router = await startRuntime({
      databaseUrl: url,
      port: 0,
      logger: pino({ level: 'silent' }),
      pollMs: 0,
      clock: () => now,
      random: () => 0.5,
      configText: [
        'delivery_timeout: 30s',
        'channels:',
        ...channels.map((c) => `  ${c}: { type: webhook, url: "${receiver.url}/${c}", max_attempts: 3 }`),
        'policies:',
        ...channels.map(
          (c) => `  - { name: ${c}, match: { alertname: Res-${c} }, steps: [{ notify: [${c}] }] }`,
        ),
      ].join('\n'),
    });
    operator = await createToken(router.orm, 'ops', 'operator');
  }, 120_000);

  afterAll(async () => {
    releaseSlow?.();
    await router?.stop();
    await receiver?.close();
    await pg?.stop();
  });

  it('sends each notification with its stable key (Idempotency-Key and body); after a sent firing notice the resolution notice says it was delivered', async () => {
    await post(alert('Res-sent'));
    await router.work(now);
    const [firing] = at('/sent');
    const body = sent(firing);
    const [row] = await notifications('Res-sent');
    expect(body.notification).toEqual({ id: row?.id, key: `ispmon-${row?.id}`, step: 0, repeat: 0 });
    expect(firing?.headers['idempotency-key']).toBe(`ispmon-${row?.id}`);
    expect(row).toMatchObject({ kind: 'firing', status: 'sent', attempts: 1, step: 0 });
    const attempts = await db(
      'select ok, duration_ms from notification_attempts where notification_id = $1',
      [row?.id],
    );
    expect(attempts).toEqual([{ ok: true, duration_ms: expect.any(Number) }]);

    // Resolution after the firing notice was sent: one resolution notice that says it was delivered.
    await post(alert('Res-sent', 'resolved'));
    await router.work(now);
    const got = at('/sent').map(sent);
    expect(got.map((b) => [b.kind, b.firingDelivered])).toEqual([
      ['firing', undefined],
      ['resolved', true],
    ]);
    expect((await notifications('Res-sent')).map((n) => [n.kind, n.status, n.attempts])).toEqual([
      ['firing', 'sent', 1],
      ['resolved', 'sent', 1],
    ]);
  });

  it('resolution while the firing notice is still pending: the stale firing notice is superseded, one "fired at, resolved at" notice goes out', async () => {
    await post(alert('Res-pending'));
    await router.work(now, { deliver: false });
    expect((await notifications('Res-pending')).map((n) => n.status)).toEqual(['pending']);
    await post(alert('Res-pending', 'resolved'));
    await router.work(now);
    const got = at('/pending');
    expect(got.map((r) => [sent(r).kind, sent(r).firingDelivered])).toEqual([['resolved', false]]);
    expect(JSON.parse(got[0]?.body ?? '{}')).toMatchObject({
      incident: { startsAt: '2026-11-22T03:00:00.000Z', resolvedAt: '2026-11-30T08:30:00.000Z' },
    });
    expect((await notifications('Res-pending')).map((n) => [n.kind, n.status, n.attempts])).toEqual([
      ['firing', 'superseded', 0],
      ['resolved', 'sent', 1],
    ]);
  });

  it('resolution while the firing notice is failing (first attempt 503): no stale retry, the resolution notice says the firing one never arrived', async () => {
    await post(alert('Res-failing'));
    await router.work(now);
    expect(at('/failing')).toHaveLength(1);
    expect((await notifications('Res-failing')).map((n) => [n.status, n.attempts])).toEqual([['pending', 1]]);
    await post(alert('Res-failing', 'resolved'));
    await router.work(new Date(now.getTime() + 3_600_000));
    expect(at('/failing').map((r) => [sent(r).kind, sent(r).firingDelivered])).toEqual([
      ['firing', undefined],
      ['resolved', false],
    ]);
    expect((await notifications('Res-failing')).map((n) => [n.kind, n.status, n.attempts])).toEqual([
      ['firing', 'superseded', 1],
      ['resolved', 'sent', 1],
    ]);
  });

  it('resolution while the firing notice is being sent to a slow receiver: firing recorded as sent, then the resolution notice, in that order', async () => {
    await post(alert('Res-slow'));
    const round = router.work(now);
    await waitFor('the firing notice held by the slow receiver', async () =>
      at('/slow').length === 1 && releaseSlow ? true : undefined,
    );
    await post(alert('Res-slow', 'resolved'));
    releaseSlow?.();
    await round;
    await router.work(now);
    expect(at('/slow').map((r) => [sent(r).kind, sent(r).firingDelivered])).toEqual([
      ['firing', undefined],
      ['resolved', true],
    ]);
    expect((await notifications('Res-slow')).map((n) => [n.kind, n.status, n.attempts])).toEqual([
      ['firing', 'sent', 1],
      ['resolved', 'sent', 1],
    ]);
  });

  it('resolution after the firing notice was dead-lettered: the resolution notice still goes, and the dead firing notice cannot be retried stale', async () => {
    await post(alert('Res-dead'));
    await router.work(now);
    const [dead] = await notifications('Res-dead');
    expect(dead).toMatchObject({ kind: 'firing', status: 'dead', attempts: 1 });
    await post(alert('Res-dead', 'resolved'));
    await router.work(now);
    expect(at('/dead').map((r) => [sent(r).kind, sent(r).firingDelivered])).toEqual([
      ['firing', undefined],
      ['resolved', false],
    ]);
    const retry = await fetch(`${router.url}/api/v1/notifications/${dead?.id}/retry`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operator}` },
    });
    expect(retry.status).toBe(409);
    expect(((await retry.json()) as { error: string }).error).toContain('resolution notice covers it');
  });
});
