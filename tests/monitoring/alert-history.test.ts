// The alert history dashboard's SQL runs against the alert router's real schema: a real alert router
// (migrations applied to Debian's PostgreSQL) ingests Alertmanager webhooks, then every rawSql of every
// dashboard is executed the way Grafana's PostgreSQL datasource would (macros expanded) and must return
// the incidents just ingested.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { startRuntime, type Runtime } from '@ispmon/alert-router';
import { startPostgres, type PostgresServer } from '@ispmon/testkit';
import { repoRoot } from '../support/paths.js';
import { webhook } from '../../alert-router/test/fixtures.js';

interface Panel {
  title: string;
  type: string;
  datasource?: { uid: string };
  targets: Array<{ rawSql?: string; datasource?: { uid: string } }>;
}

const dashboardsDir = join(repoRoot, 'grafana/dashboards');
const sqlPanels = readdirSync(dashboardsDir)
  .filter((f) => f.endsWith('.json'))
  .flatMap((file) =>
    (JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as { panels: Panel[] }).panels
      .filter((p) => p.targets.some((t) => t.rawSql))
      .map((p) => ({ file, panel: p })),
  );

/** Expands the Grafana macros the dashboards use, over the last day. */
function expandMacros(sql: string): string {
  return sql
    .replace(
      /\$__timeFilter\(([^)]+)\)/g,
      "$1 BETWEEN now() - interval '1 day' AND now() + interval '1 hour'",
    )
    .replace(/\$__timeFrom\(\)/g, "now() - interval '1 day'")
    .replace(/\$__timeTo\(\)/g, 'now()');
}

describe('alert history dashboard against the alert router database', () => {
  let server: PostgresServer;
  let router: Runtime;
  let client: pg.Client;

  beforeAll(async () => {
    server = await startPostgres();
    const url = await server.createDatabase();
    router = await startRuntime({
      databaseUrl: url,
      port: 0,
      configText: '{}\n',
      logger: pino({ level: 'silent' }),
      pollMs: 0,
    });
    client = new pg.Client({ connectionString: url });
    await client.connect();

    // One reference time, so the resolution below is exactly 15 minutes after the start.
    const t0 = Date.now();
    const startsAt = new Date(t0 - 20 * 60_000).toISOString();
    const alert = (
      status: 'firing' | 'resolved',
      labels: Record<string, string>,
      endsAt = '0001-01-01T00:00:00Z',
    ) => ({
      status,
      labels,
      annotations: { summary: `${labels.alertname} on ${labels.router ?? labels.link}` },
      startsAt,
      endsAt,
      generatorURL: 'http://prometheus:9090/graph',
      fingerprint: `${labels.alertname}-${labels.router ?? labels.link}`,
    });
    const post = async (status: string, alerts: Parameters<typeof webhook>[0]): Promise<number> =>
      (
        await fetch(`${router.url}/webhook/alertmanager`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(webhook(alerts, { status, groupKey: `{}:{alertname="x"}` })),
        })
      ).status;
    const routerDown = { alertname: 'RouterDown', router: 'core-1', severity: 'critical', team: 'noc' };
    const linkLatency = {
      alertname: 'LinkLatencyAboveCommitment',
      link: 'L-0001',
      severity: 'warning',
      team: 'noc',
    };
    expect(await post('firing', [alert('firing', routerDown), alert('firing', linkLatency)])).toBe(200);
    expect(
      await post('resolved', [alert('resolved', routerDown, new Date(t0 - 5 * 60_000).toISOString())]),
    ).toBe(200);
  }, 120_000);

  afterAll(async () => {
    await client?.end();
    await router?.stop();
    await server?.stop();
  });

  it('has SQL panels that read the alert history datasource', () => {
    expect(sqlPanels.length).toBeGreaterThanOrEqual(3);
    for (const { panel } of sqlPanels)
      expect({ panel: panel.title, uid: panel.datasource?.uid }).toEqual({
        panel: panel.title,
        uid: 'ispmon-alert-history',
      });
  });

  it('runs every dashboard SQL query without error against the migrated schema', async () => {
    const failures: string[] = [];
    for (const { file, panel } of sqlPanels)
      for (const t of panel.targets) {
        if (!t.rawSql) continue;
        try {
          await client.query(expandMacros(t.rawSql));
        } catch (err) {
          failures.push(`${file} / ${panel.title}: ${(err as Error).message}`);
        }
      }
    expect(failures).toEqual([]);
  });

  it('lists the ingested incidents with router and link, and counts them per severity', async () => {
    const byTitle = (prefix: string): string => {
      const sql = sqlPanels.find((p) => p.panel.title.startsWith(prefix))?.panel.targets[0]?.rawSql;
      if (!sql) throw new Error(`no SQL panel titled ${prefix}…`);
      return expandMacros(sql);
    };
    const incidents = (await client.query<Record<string, unknown>>(byTitle('Incidents (last'))).rows;
    expect(
      incidents.map((r) => [r.alertname, r.status, r.severity, r.router, r.link, r.resolved !== null]).sort(),
    ).toEqual([
      ['LinkLatencyAboveCommitment', 'firing', 'warning', null, 'L-0001', false],
      ['RouterDown', 'resolved', 'critical', 'core-1', null, true],
    ]);
    const perHour = (await client.query<{ metric: string; value: string }>(byTitle('Incidents per hour')))
      .rows;
    const totals: Record<string, number> = {};
    for (const r of perHour) totals[r.metric] = (totals[r.metric] ?? 0) + Number(r.value);
    expect(totals).toEqual({ critical: 1, warning: 1 });
    const mttr = (await client.query<{ value: string }>(byTitle('Mean time to resolve'))).rows[0]?.value;
    // RouterDown started 20 minutes ago and ended 5 minutes ago (Alertmanager's endsAt): 900 s.
    expect(Number(mttr)).toBe(900);
  });
});
