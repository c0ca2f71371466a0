// HTTP surface: the Alertmanager webhook, the incidents REST API (OpenAPI at /openapi.json),
// /metrics, /healthz, /readyz.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { z } from 'zod';
import { isDatabaseError } from './db/errors.js';
import { ConflictError, NotFoundError, q } from './db/sql.js';
import type { IncidentActions } from './lifecycle.js';
import type { RouterMetrics } from './metrics.js';
import type { NotificationOutbox } from './notifications/outbox.js';
import { openApiDocument } from './openapi.js';
import { describeIssue } from './payload.js';
import { apiRow, type IncidentQueries } from './queries.js';
import { allows, lookupToken, type Role } from './tokens.js';
import { webhookHandler, type WebhookOptions } from './webhook.js';

export interface AppOptions {
  orm: MikroORM;
  queries: IncidentQueries;
  actions: IncidentActions;
  outbox: NotificationOutbox;
  metrics: RouterMetrics;
  logger: Logger;
  clock: () => Date;
  webhook: WebhookOptions;
  alertmanagerUrl?: string;
}

const ackSchema = z.strictObject({
  note: z.string().max(2000).optional(),
  silenceMinutes: z.number().int().min(1).max(10080).optional(),
});
const resolveSchema = z.strictObject({ note: z.string().min(1, 'a resolution note is required').max(2000) });

export function createApp(o: AppOptions): express.Express {
  const clock = o.clock;
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    try {
      await q(o.orm.em.fork(), 'select 1');
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json({ status: 'database unavailable' });
    }
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

  // --- REST API -------------------------------------------------------------------------------
  const api = express.Router();
  api.use(express.json({ limit: '64kb' }));
  api.use(async (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    const who = token ? await lookupToken(o.orm, token).catch(() => undefined) : undefined;
    if (!who) {
      res.status(401).json({ error: 'a valid API token is required (Authorization: Bearer …)' });
      return;
    }
    res.locals.who = who;
    next();
  });
  const need = (role: Role) => (req: Request, res: Response, next: NextFunction) => {
    const who = res.locals.who as { name: string; role: Role };
    if (!allows(who.role, role)) {
      res
        .status(403)
        .json({ error: `role ${who.role} may not ${req.method} ${req.baseUrl}${req.path}; needs ${role}` });
      return;
    }
    next();
  };

  const listQuery = z.object({
    status: z.enum(['firing', 'resolved', 'acknowledged']).optional(),
    severity: z.string().optional(),
    label: z.union([z.string(), z.array(z.string())]).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    offset: z.coerce.number().int().min(0).default(0),
  });

  api.get('/incidents', need('viewer'), async (req, res) => {
    const parsed = listQuery.safeParse(req.query);
    if (!parsed.success) {
      res.status(400).json({ error: describeIssue(parsed.error) });
      return;
    }
    const labels: Record<string, string> = {};
    for (const m of [parsed.data.label ?? []].flat()) {
      const eq = m.indexOf('=');
      if (eq < 1) {
        res.status(400).json({ error: `label: '${m}' must be name=value` });
        return;
      }
      labels[m.slice(0, eq)] = m.slice(eq + 1);
    }
    const q = parsed.data;
    res.json(
      await o.queries.list({
        ...(q.status ? { status: q.status } : {}),
        ...(q.severity ? { severity: q.severity } : {}),
        labels,
        ...(q.since ? { since: new Date(q.since) } : {}),
        ...(q.until ? { until: new Date(q.until) } : {}),
        limit: q.limit,
        offset: q.offset,
      }),
    );
  });

  api.get('/incidents/:id', need('viewer'), async (req, res) => {
    res.json(await o.queries.get(String(req.params.id)));
  });

  api.post('/incidents/:id/ack', need('operator'), async (req, res) => {
    const body = ackSchema.safeParse(req.body ?? {});
    if (!body.success) {
      res.status(400).json({ error: describeIssue(body.error) });
      return;
    }
    const who = (res.locals.who as { name: string }).name;
    const { incident } = await o.queries.get(String(req.params.id));
    let silenceId: string | undefined;
    if (body.data.silenceMinutes && o.alertmanagerUrl) {
      const now = clock();
      const r = await fetch(`${o.alertmanagerUrl.replace(/\/$/, '')}/api/v2/silences`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          matchers: Object.entries(incident.labels).map(([name, value]) => ({
            name,
            value,
            isRegex: false,
            isEqual: true,
          })),
          startsAt: now.toISOString(),
          endsAt: new Date(now.getTime() + body.data.silenceMinutes * 60_000).toISOString(),
          createdBy: who,
          comment: body.data.note ?? `acknowledged in ispmon (incident ${incident.id})`,
        }),
        signal: AbortSignal.timeout(5_000),
      });
      if (!r.ok) {
        res.status(502).json({ error: `Alertmanager refused the silence: HTTP ${r.status}` });
        return;
      }
      silenceId = ((await r.json()) as { silenceID?: string }).silenceID;
    }
    res.json(apiRow(await o.actions.acknowledge(incident.id, who, body.data.note, clock(), silenceId)));
  });

  api.post('/incidents/:id/resolve', need('operator'), async (req, res) => {
    const body = resolveSchema.safeParse(req.body ?? {});
    if (!body.success) {
      res.status(400).json({ error: describeIssue(body.error) });
      return;
    }
    res.json(
      apiRow(
        await o.actions.resolveManually(
          String(req.params.id),
          (res.locals.who as { name: string }).name,
          body.data.note,
          clock(),
        ),
      ),
    );
  });

  api.get('/stats', need('viewer'), async (req, res) => {
    const now = clock();
    const since =
      typeof req.query.since === 'string'
        ? new Date(req.query.since)
        : new Date(now.getTime() - 30 * 86_400_000);
    const until = typeof req.query.until === 'string' ? new Date(req.query.until) : now;
    if (Number.isNaN(since.getTime()) || Number.isNaN(until.getTime())) {
      res.status(400).json({ error: 'since/until: must be ISO 8601 dates' });
      return;
    }
    res.json(await o.queries.stats(since, until));
  });

  api.post('/notifications/:id/retry', need('operator'), async (req, res) => {
    if (!(await o.outbox.retryDead(String(req.params.id), clock()))) {
      res.status(404).json({ error: `notification ${req.params.id} is not dead-lettered` });
      return;
    }
    res.json({ status: 'pending' });
  });

  app.use('/api/v1', api);

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof NotFoundError) {
      res.status(404).json({ error: err.message });
      return;
    }
    if (err instanceof ConflictError) {
      res.status(409).json({ error: err.message });
      return;
    }
    const e = err as { type?: string; status?: number; message?: string };
    if (e.status && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ error: e.message ?? 'bad request' });
      return;
    }
    o.logger.error({ event: 'request_failed', error: e.message }, 'request failed');
    res
      .status(isDatabaseError(err) ? 503 : 500)
      .json({ error: isDatabaseError(err) ? 'database unavailable' : 'internal error' });
  });
  return app;
}
