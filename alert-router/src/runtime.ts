// Composition: opens the database, builds the rooms (ingest, escalation worker, outbox, queries,
// actions, retention), issues the bootstrap token, then listens and starts the loops. Used by main.ts
// and by tests (in-process or as a child process).
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Express } from 'express';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { createApp } from './app.js';
import { parseRouterConfig, type RouterConfig } from './config.js';
import { openDatabase } from './db/orm.js';
import { EscalationWorker } from './escalation/worker.js';
import { Ingest } from './ingest.js';
import { IncidentActions } from './lifecycle.js';
import { RouterMetrics } from './metrics.js';
import { NotificationOutbox } from './notifications/outbox.js';
import { IncidentQueries } from './queries.js';
import { purgeResolved } from './retention.js';
import { createToken } from './tokens.js';

export interface RuntimeOptions {
  databaseUrl: string;
  host?: string;
  port: number;
  configFile?: string;
  configText?: string;
  logger: Logger;
  alertmanagerUrl?: string;
  webhookBearerToken?: string;
  webhookBasicAuth?: { username: string; password: string };
  /** Largest webhook body accepted (default 64 MiB). */
  maxWebhookBytes?: number;
  /** Stored (hashed) as the admin token named "bootstrap" before the server accepts requests. */
  adminToken?: string;
  /** Worker poll interval; 0 turns the loops off (tests call `work()`). */
  pollMs?: number;
  clock?: () => Date;
  /** Jitter source for retry backoff (tests make it deterministic). */
  random?: () => number;
}

export interface Runtime {
  url: string;
  /** The HTTP application (its route table is what the OpenAPI test compares with the document). */
  app: Express;
  orm: MikroORM;
  metrics: RouterMetrics;
  queries: IncidentQueries;
  outbox: NotificationOutbox;
  /** Runs one round of escalations and (unless `deliver: false`) deliveries now; tests drive time with it. */
  work(now?: Date, o?: { deliver?: boolean }): Promise<void>;
  /** Deletes resolved incidents older than retention_days; returns how many. */
  purge(now?: Date): Promise<number>;
  stop(graceMs?: number): Promise<void>;
}

export function loadConfig(o: Pick<RuntimeOptions, 'configFile' | 'configText'>): RouterConfig {
  if (o.configText !== undefined) return parseRouterConfig(o.configText, 'config');
  if (o.configFile) return parseRouterConfig(readFileSync(o.configFile, 'utf8'), o.configFile);
  return parseRouterConfig('{}', 'defaults');
}

export async function startRuntime(o: RuntimeOptions): Promise<Runtime> {
  const config = loadConfig(o);
  const getConfig = (): RouterConfig => config;
  const orm = await openDatabase(o.databaseUrl);
  if (o.adminToken) await createToken(orm, 'bootstrap', 'admin', new Date(), o.adminToken);
  const metrics = new RouterMetrics();
  metrics.initialiseChannels(config.channels.keys());
  const clock = o.clock ?? (() => new Date());
  const ingest = new Ingest(orm, getConfig);
  const escalation = new EscalationWorker(orm, getConfig, metrics);
  const outbox = new NotificationOutbox(orm, getConfig, o.logger, metrics, o.random);
  const queries = new IncidentQueries(orm);
  const actions = new IncidentActions(orm);

  let busy: Promise<void> | undefined;
  let stopping = false;
  const work = async (now?: Date, w: { deliver?: boolean } = {}): Promise<void> => {
    while (busy) await busy;
    busy = (async () => {
      try {
        while ((await escalation.tick(now ?? clock())) > 0);
        while (w.deliver !== false && !stopping && (await outbox.deliverNext(now ?? clock())));
      } catch (err) {
        o.logger.error({ event: 'worker_failed', error: (err as Error).message }, 'worker round failed');
      }
    })();
    await busy;
    busy = undefined;
  };
  const app = createApp({
    orm,
    queries,
    actions,
    outbox,
    metrics,
    logger: o.logger,
    clock,
    webhook: {
      ingest,
      metrics,
      logger: o.logger,
      clock,
      ...(o.maxWebhookBytes ? { maxBytes: o.maxWebhookBytes } : {}),
      ...(o.webhookBearerToken ? { bearerToken: o.webhookBearerToken } : {}),
      ...(o.webhookBasicAuth ? { basicAuth: o.webhookBasicAuth } : {}),
      ...(o.pollMs !== 0 ? { onIngested: () => void work() } : {}),
    },
    ...(o.alertmanagerUrl ? { alertmanagerUrl: o.alertmanagerUrl } : {}),
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(o.port, o.host ?? '127.0.0.1', () => resolve(s));
  });
  const address = server.address();
  const url = `http://${o.host ?? '127.0.0.1'}:${typeof address === 'object' && address ? address.port : o.port}`;
  const timer = o.pollMs === 0 ? undefined : setInterval(() => void work(), o.pollMs ?? 1_000);
  timer?.unref();
  const purge = (now = clock()): Promise<number> => purgeResolved(orm, config.retentionDays, now);
  const purger =
    o.pollMs === 0
      ? undefined
      : setInterval(() => {
          purge().then(
            (removed) => {
              if (removed) o.logger.info({ event: 'retention_purge', removed }, 'old incidents purged');
            },
            (err: unknown) =>
              o.logger.error(
                { event: 'retention_purge_failed', error: (err as Error).message },
                'retention purge failed',
              ),
          );
        }, 3_600_000);
  purger?.unref();
  return {
    url,
    app,
    orm,
    metrics,
    queries,
    outbox,
    work,
    purge,
    async stop(graceMs = 10_000): Promise<void> {
      stopping = true;
      if (timer) clearInterval(timer);
      if (purger) clearInterval(purger);
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      // Let in-flight webhooks commit and the current send finish and be recorded.
      const grace = new Promise((r) => setTimeout(r, graceMs).unref());
      await Promise.race([Promise.all([closed, busy]), grace]);
      outbox.stop();
      await Promise.race([busy, new Promise((r) => setTimeout(r, 1_000).unref())]);
      server.closeAllConnections();
      await orm.close();
    },
  };
}
