// Builds and runs the alert router: HTTP server plus the escalation and delivery loops. Used by main.ts
// and by tests (which run it in-process or as a child process).
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { createApp } from './app.js';
import { parseRouterConfig, type RouterConfig } from './config.js';
import { openDatabase } from './db/orm.js';
import { RouterMetrics } from './metrics.js';
import { AlertRouterService } from './service.js';

export interface RuntimeOptions {
  databaseUrl: string;
  host?: string;
  port: number;
  configFile?: string;
  configText?: string;
  logger: Logger;
  alertmanagerUrl?: string;
  webhookBearerToken?: string;
  pollMs?: number;
  clock?: () => Date;
}

export interface Runtime {
  url: string;
  orm: MikroORM;
  service: AlertRouterService;
  metrics: RouterMetrics;
  /** Runs one round of escalations and deliveries now (tests drive time with this). */
  work(now?: Date): Promise<void>;
  stop(graceMs?: number): Promise<void>;
}

export function loadConfig(o: Pick<RuntimeOptions, 'configFile' | 'configText'>): RouterConfig {
  if (o.configText !== undefined) return parseRouterConfig(o.configText, 'config');
  if (o.configFile) return parseRouterConfig(readFileSync(o.configFile, 'utf8'), o.configFile);
  return parseRouterConfig('{}', 'defaults');
}

export async function startRuntime(o: RuntimeOptions): Promise<Runtime> {
  const config = loadConfig(o);
  const orm = await openDatabase(o.databaseUrl);
  const metrics = new RouterMetrics();
  const service = new AlertRouterService(orm, config, o.logger, metrics);
  const clock = o.clock ?? (() => new Date());
  let busy: Promise<void> | undefined;
  let stopping = false;
  const work = async (now = clock()): Promise<void> => {
    while (busy) await busy;
    busy = (async () => {
      try {
        while ((await service.tickEscalations(now)) > 0);
        while ((await service.tickNotifications(now)) > 0 && !stopping);
      } catch (err) {
        o.logger.error({ event: 'worker_failed', error: (err as Error).message }, 'worker round failed');
      }
    })();
    await busy;
    busy = undefined;
  };
  const app = createApp({
    service,
    orm,
    metrics,
    logger: o.logger,
    clock,
    ...(o.alertmanagerUrl ? { alertmanagerUrl: o.alertmanagerUrl } : {}),
    ...(o.webhookBearerToken ? { webhookBearerToken: o.webhookBearerToken } : {}),
    ...(o.pollMs !== 0 ? { onIngested: () => void work() } : {}),
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(o.port, o.host ?? '127.0.0.1', () => resolve(s));
  });
  const address = server.address();
  const url = `http://${o.host ?? '127.0.0.1'}:${typeof address === 'object' && address ? address.port : o.port}`;
  const timer = o.pollMs === 0 ? undefined : setInterval(() => void work(), o.pollMs ?? 1_000);
  timer?.unref();
  // Retention: resolved incidents older than retention_days are deleted hourly (events cascade).
  const purge = async (): Promise<void> => {
    try {
      const removed = await service.purge(clock());
      if (removed) o.logger.info({ event: 'retention_purge', removed }, 'old incidents purged');
    } catch (err) {
      o.logger.error(
        { event: 'retention_purge_failed', error: (err as Error).message },
        'retention purge failed',
      );
    }
  };
  const purger = o.pollMs === 0 ? undefined : setInterval(() => void purge(), 3_600_000);
  purger?.unref();
  return {
    url,
    orm,
    service,
    metrics,
    work,
    async stop(graceMs = 10_000): Promise<void> {
      stopping = true;
      if (timer) clearInterval(timer);
      if (purger) clearInterval(purger);
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      // Let in-flight webhooks commit and the current delivery round finish.
      await Promise.race([Promise.all([closed, busy]), new Promise((r) => setTimeout(r, graceMs).unref())]);
      server.closeAllConnections();
      await orm.close();
    },
  };
}
