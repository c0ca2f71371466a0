// Composition: opens the database, builds the rooms (ingest, escalation worker, outbox, queries,
// actions, retention), issues the bootstrap token, then listens and starts the periodic jobs (service-kit's
// JobRunner: escalation, outbox, retention). Used by main.ts and by tests (in-process or as a child process).
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Express } from 'express';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { AdvisoryJobLock, JobRunner, listenHttp } from '@ispmon/service-kit';
import { createApp } from './app.js';
import { parseRouterConfig, type RouterConfig } from './config.js';
import { openRouterDatabase } from './db/orm.js';
import { EscalationWorker } from './escalation/worker.js';
import { Ingest } from './ingest.js';
import { IncidentActions } from './lifecycle.js';
import { RouterMetrics } from './metrics.js';
import { NotificationOutbox } from './notifications/outbox.js';
import { IncidentQueries } from './queries.js';
import { purgeResolved, type Purged } from './retention.js';
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
  /** Escalation and outbox poll interval; 0 turns the periodic jobs off (tests call `work()` and `purge()`). */
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
  purge(now?: Date): Promise<Purged>;
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
  const orm = await openRouterDatabase(o.databaseUrl);
  if (o.adminToken) await createToken(orm, 'bootstrap', 'admin', new Date(), o.adminToken);
  const metrics = new RouterMetrics();
  metrics.initialiseChannels(config.channels.keys());
  const clock = o.clock ?? (() => new Date());
  const ingest = new Ingest(orm, getConfig);
  const escalation = new EscalationWorker(orm, getConfig, metrics);
  const outbox = new NotificationOutbox(orm, getConfig, o.logger, metrics, o.random);
  const queries = new IncidentQueries(orm);
  const actions = new IncidentActions(orm);

  // Each job never overlaps itself; a round's time starts at `now` and advances with the clock, so a long
  // delivery round claims with a current lease while an injected clock (tests) keeps it fixed.
  const since = (now: Date): (() => Date) => {
    const start = clock().getTime();
    return () => new Date(now.getTime() + clock().getTime() - start);
  };
  const pollMs = o.pollMs ?? 1_000;
  // Replicas: escalation and outbox claim their rows (FOR UPDATE SKIP LOCKED; a leased conditional UPDATE), so
  // every replica runs them and shares the work; retention is a singleton (one replica purges).
  const jobs = new JobRunner(o.logger, clock, {
    lock: new AdvisoryJobLock(o.databaseUrl, 'alert-router', o.logger),
    registry: metrics.registry,
  })
    .add({
      name: 'escalation',
      everyMs: pollMs,
      run: async (now) => {
        const at = since(now);
        let fired = 0;
        for (let n = await escalation.tick(at()); n > 0; n = await escalation.tick(at())) fired += n;
        // On timers, what a step queued goes out now rather than at the next outbox tick.
        if (fired > 0 && pollMs > 0 && !jobs.isStopping) void jobs.runNow('outbox').catch(() => undefined);
      },
    })
    .add({
      name: 'outbox',
      everyMs: pollMs,
      run: async (now) => {
        const at = since(now);
        while (!jobs.isStopping && (await outbox.deliverNext(at())));
      },
    })
    .add({
      name: 'retention',
      everyMs: pollMs === 0 ? 0 : 3_600_000,
      singleton: true,
      run: async (now) => {
        const removed = await purgeResolved(orm, config.retentionDays, now);
        if (removed.incidents || removed.webhookDeliveries)
          o.logger.info(
            { event: 'retention_purge', ...removed },
            'old incidents and webhook deliveries purged',
          );
        return removed;
      },
    });
  /** Escalations first, so the steps they fire are delivered in the same round. Failures are logged by the runner. */
  const work = async (now?: Date, w: { deliver?: boolean } = {}): Promise<void> => {
    if (jobs.isStopping) return;
    try {
      await jobs.runNow('escalation', now);
      if (w.deliver !== false) await jobs.runNow('outbox', now);
    } catch {
      // logged as job_failed; the next round retries
    }
  };
  const app = createApp({
    orm,
    stopping: () => jobs.isStopping,
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
  const server: Server = await listenHttp(app, o.port, o.host ?? '127.0.0.1');
  const address = server.address();
  const url = `http://${o.host ?? '127.0.0.1'}:${typeof address === 'object' && address ? address.port : o.port}`;
  jobs.start();
  const purge = (now = clock()): Promise<Purged> => jobs.runNow<Purged>('retention', now);
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
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      // Let in-flight webhooks commit and the current send finish and be recorded (no new rounds start).
      const grace = new Promise((r) => setTimeout(r, graceMs).unref());
      await Promise.all([Promise.race([closed, grace]), jobs.stop(graceMs)]);
      outbox.stop();
      await jobs.stop(1_000);
      server.closeAllConnections();
      await orm.close();
    },
  };
}
