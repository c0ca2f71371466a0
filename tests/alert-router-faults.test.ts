// Fault test: the alert router is killed with SIGKILL in the middle of a webhook burst and restarted.
// The sender retries every non-2xx and every connection error, as Alertmanager does. No alert may be
// lost, none stored twice, and each incident gets exactly one notification row (dedupe keys).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startPostgres, waitFor, type PostgresServer } from '@ispmon/testkit';
import { repoRoot } from './support/paths.js';

describe('alert router killed with SIGKILL during a webhook burst', () => {
  let pg: PostgresServer;
  let receiver: Server;
  const received = new Map<string, number>();
  let child: ChildProcess | undefined;
  let dir = '';

  beforeAll(async () => {
    pg = await startPostgres();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          incident: { labels: { n: string } };
        };
        received.set(body.incident.labels.n, (received.get(body.incident.labels.n) ?? 0) + 1);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    dir = mkdtempSync(join(tmpdir(), 'ispmon-ar-fault-'));
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await new Promise((r) => receiver.close(r));
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no alert and stores none twice', async () => {
    const databaseUrl = await pg.createDatabase();
    const port = await freePort();
    const ra = receiver.address();
    writeFileSync(
      join(dir, 'config.yml'),
      `channels:\n  sink: { type: webhook, url: "http://127.0.0.1:${typeof ra === 'object' && ra ? ra.port : 0}/hook" }\npolicies:\n  - name: all\n    steps: [{ notify: [sink] }]\n`,
    );
    const start = (): ChildProcess =>
      spawn(process.execPath, [join(repoRoot, 'alert-router/dist/main.js')], {
        env: {
          ...process.env,
          DATABASE_URL: databaseUrl,
          PORT: String(port),
          HOST: '127.0.0.1',
          ALERT_ROUTER_CONFIG: join(dir, 'config.yml'),
          LOG_LEVEL: 'silent',
        },
        stdio: 'ignore',
      });
    const ready = (): Promise<true> =>
      waitFor(
        'alert router ready',
        async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined),
        { timeoutMs: 20_000, intervalMs: 100 },
      );
    child = start();
    await ready();

    const total = 300;
    let retries = 0;
    const send = async (n: number): Promise<void> => {
      const body = JSON.stringify({
        version: '4',
        groupKey: `g${n}`,
        truncatedAlerts: 0,
        status: 'firing',
        receiver: 'alert-router',
        groupLabels: {},
        commonLabels: {},
        commonAnnotations: {},
        externalURL: '',
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'Burst', n: String(n), severity: 'warning' },
            annotations: {},
            startsAt: '2026-11-22T05:00:00Z',
            endsAt: '0001-01-01T00:00:00Z',
            generatorURL: '',
            fingerprint: `burst-${n}`,
          },
        ],
      });
      for (;;) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/webhook/alertmanager`, {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/json' },
            signal: AbortSignal.timeout(5_000),
          });
          await res.arrayBuffer();
          if (res.ok) return;
        } catch {
          // connection refused or reset while the service is down
        }
        retries += 1;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < total) await send(next++);
    };
    const burst = Promise.all(Array.from({ length: 8 }, worker));
    await waitFor(
      'part of the burst stored',
      async () =>
        Number(
          (
            await pg.query<{ n: string }>(
              'select count(*) as n from incidents',
              [],
              databaseUrl.split('/').pop(),
            )
          )[0]?.n ?? '0',
        ) > 0 && next > total / 3
          ? true
          : undefined,
      { intervalMs: 10 },
    );
    child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    child = start();
    await ready();
    await burst;

    const db = databaseUrl.split('/').pop();
    const [{ incidents, distinct }] = (await pg.query<{ incidents: string; distinct: string }>(
      'select count(*) as incidents, count(distinct fingerprint) as distinct from incidents',
      [],
      db,
    )) as [{ incidents: string; distinct: string }];
    expect({ incidents: Number(incidents), distinct: Number(distinct) }).toEqual({
      incidents: total,
      distinct: total,
    });
    expect(retries).toBeGreaterThan(0); // the kill really interrupted the burst
    await waitFor('every incident notified', async () => (received.size === total ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    const rows = await pg.query<{ n: string }>(
      'select count(*) as n from notifications group by incident_id having count(*) > 1',
      [],
      db,
    );
    expect(rows).toEqual([]);
    // Delivery is at-least-once: a notification sent just before the kill but not yet marked may go again.
    const duplicates = [...received.values()].filter((c) => c > 1).length;
    expect(duplicates).toBeLessThanOrEqual(8);
  }, 120_000);
});
