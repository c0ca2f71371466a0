// HTTP surface: the routes outside the API (webhook, health, readiness, metrics, the OpenAPI document,
// listed in api/openapi.ts) and the token-protected REST API mounted from its route table.
import express, { type NextFunction, type Request, type Response } from 'express';
import { isDatabaseUnavailable, readiness } from '@ispmon/service-kit';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { buildOpenApi } from './api/openapi.js';
import { apiRoutes, InputError, mountApi, type ApiDeps } from './api/routes.js';
import { ConflictError, NotFoundError, q } from './db/sql.js';
import type { RouterMetrics } from './metrics.js';
import type { IncidentQueries } from './queries.js';
import { webhookHandler, type WebhookOptions } from './webhook.js';

export interface AppOptions extends ApiDeps {
  orm: MikroORM;
  queries: IncidentQueries;
  metrics: RouterMetrics;
  logger: Logger;
  webhook: WebhookOptions;
  /** True once a graceful stop began: readiness fails so a load balancer drops this replica. */
  stopping?: () => boolean;
}

export function createApp(o: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const openApiDocument = buildOpenApi(apiRoutes);

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    const r = await readiness({
      stopping: o.stopping ?? (() => false),
      database: () => q(o.orm.em.fork(), 'select 1'),
    });
    res.status(r.status).json(r.body);
  });
  app.get('/metrics', async (_req, res) => {
    try {
      const open = await o.queries.openBySeverity();
      o.metrics.resetOpenIncidents();
      for (const r of open) o.metrics.openIncidents.set({ severity: r.severity }, r.n);
    } catch {
      // database down: serve the process metrics anyway
    }
    res.type(o.metrics.registry.contentType).send(await o.metrics.registry.metrics());
  });
  app.get('/openapi.json', (_req, res) => void res.json(openApiDocument));
  app.post('/webhook/alertmanager', webhookHandler(o.webhook));
  mountApi(app, apiRoutes, o);

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof NotFoundError) {
      res.status(404).json({ error: err.message });
      return;
    }
    if (err instanceof ConflictError) {
      res.status(409).json({ error: err.message });
      return;
    }
    if (err instanceof InputError) {
      res.status(400).json({ error: err.message });
      return;
    }
    const e = err as { status?: number; message?: string };
    if (e.status && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ error: e.message ?? 'bad request' });
      return;
    }
    o.logger.error({ event: 'request_failed', error: e.message }, 'request failed');
    const db = isDatabaseUnavailable(err);
    res.status(db ? 503 : 500).json({ error: db ? 'database unavailable' : 'internal error' });
  });
  return app;
}
