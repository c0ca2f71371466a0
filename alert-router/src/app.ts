// HTTP surface: the Alertmanager webhook, the incidents REST API (OpenAPI at /openapi.json),
// /metrics, /healthz, /readyz.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { RouterMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { describeIssue, webhookSchema } from './payload.js';
import { NotFoundError, type AlertRouterService } from './service.js';
import { allows, lookupToken, type Role } from './tokens.js';

export interface AppOptions {
  service: AlertRouterService;
  orm: MikroORM;
  metrics: RouterMetrics;
  logger: Logger;
  clock?: () => Date;
  /** Optional webhook auth, as Alertmanager's http_config sends it. */
  webhookBearerToken?: string;
  webhookBasicAuth?: { username: string; password: string };
  alertmanagerUrl?: string;
  maxBodyBytes?: number;
  /** Called after a webhook commits, so workers can act without waiting for their next poll. */
  onIngested?: () => void;
}

function isDatabaseError(err: unknown): boolean {
  const e = err as { code?: string; message?: string; name?: string };
  return (
    ['ECONNREFUSED', 'ECONNRESET', '57P01', '57P03', '08006', '08001', '08003', 'ETIMEDOUT'].includes(
      e.code ?? '',
    ) ||
    /connect|terminat|timeout|Connection/i.test(e.message ?? '') ||
    e.name === 'ConnectionException'
  );
}

const ackSchema = z.strictObject({
  note: z.string().max(2000).optional(),
  silenceMinutes: z.number().int().min(1).max(10080).optional(),
});
const resolveSchema = z.strictObject({ note: z.string().min(1, 'a resolution note is required').max(2000) });

export function createApp(o: AppOptions): express.Express {
  const clock = o.clock ?? (() => new Date());
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    try {
      await o.service.ping();
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json({ status: 'database unavailable' });
    }
  });
  app.get('/metrics', async (_req, res) => {
    try {
      o.metrics.openIncidents.reset();
      for (const r of await o.service.openBySeverity())
        o.metrics.openIncidents.set({ severity: r.severity }, r.n);
    } catch {
      // database down: serve the process metrics anyway
    }
    res.type(o.metrics.registry.contentType).send(await o.metrics.registry.metrics());
  });
  app.get('/openapi.json', (_req, res) => void res.json(openApiDocument));

  // --- Alertmanager webhook -------------------------------------------------------------------
  app.post(
    '/webhook/alertmanager',
    express.text({ type: '*/*', limit: o.maxBodyBytes ?? 2 * 1024 * 1024 }),
    async (req: Request, res: Response) => {
      const started = performance.now();
      if (o.webhookBearerToken || o.webhookBasicAuth) {
        const header = req.get('authorization') ?? '';
        const okBearer = o.webhookBearerToken !== undefined && header === `Bearer ${o.webhookBearerToken}`;
        const okBasic =
          o.webhookBasicAuth !== undefined &&
          header ===
            `Basic ${Buffer.from(`${o.webhookBasicAuth.username}:${o.webhookBasicAuth.password}`).toString('base64')}`;
        if (!okBearer && !okBasic) {
          o.metrics.webhooks.inc({ outcome: 'unauthorized' });
          res.status(401).json({ error: 'missing or wrong credentials' });
          return;
        }
      }
      const raw = typeof req.body === 'string' ? req.body : '';
      const now = clock();
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        parsed = undefined;
      }
      const result = parsed === undefined ? undefined : webhookSchema.safeParse(parsed);
      if (!result?.success) {
        const reason = result ? describeIssue(result.error) : 'body is not JSON';
        try {
          await o.service.recordRejected(raw, reason, now);
        } catch (err) {
          // Cannot even record the rejection: answer 503 so Alertmanager retries instead of dropping it.
          o.logger.error(
            { event: 'webhook_reject_store_failed', error: (err as Error).message },
            'could not store a rejected webhook',
          );
          o.metrics.webhooks.inc({ outcome: 'failed' });
          res.status(503).json({ error: 'database unavailable' });
          return;
        }
        o.metrics.webhooks.inc({ outcome: 'rejected' });
        o.logger.warn({ event: 'webhook_rejected', reason }, 'invalid webhook stored and rejected');
        res.status(400).json({ error: `invalid Alertmanager webhook: ${reason}` });
        return;
      }
      try {
        const r = await o.service.ingest(result.data, raw, now);
        o.metrics.webhooks.inc({ outcome: 'accepted' });
        o.metrics.alerts.inc(result.data.alerts.length);
        o.metrics.ingestDuration.observe((performance.now() - started) / 1000);
        o.logger.info(
          {
            event: 'webhook_accepted',
            groupKey: result.data.groupKey,
            alerts: result.data.alerts.length,
            created: r.created,
            resolved: r.resolved,
          },
          'webhook stored',
        );
        res.json({ status: 'stored', ...r });
        o.onIngested?.();
      } catch (err) {
        o.metrics.webhooks.inc({ outcome: 'failed' });
        o.logger.error(
          { event: 'webhook_store_failed', error: (err as Error).message },
          'webhook not stored',
        );
        res
          .status(isDatabaseError(err) ? 503 : 500)
          .json({ error: isDatabaseError(err) ? 'database unavailable, retry' : 'internal error, retry' });
      }
    },
  );

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
      await o.service.list({
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
    res.json(await o.service.get(String(req.params.id)));
  });

  api.post('/incidents/:id/ack', need('operator'), async (req, res) => {
    const body = ackSchema.safeParse(req.body ?? {});
    if (!body.success) {
      res.status(400).json({ error: describeIssue(body.error) });
      return;
    }
    const who = (res.locals.who as { name: string }).name;
    const { incident } = await o.service.get(String(req.params.id));
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
    res.json(await o.service.acknowledge(incident.id, who, body.data.note, clock(), silenceId));
  });

  api.post('/incidents/:id/resolve', need('operator'), async (req, res) => {
    const body = resolveSchema.safeParse(req.body ?? {});
    if (!body.success) {
      res.status(400).json({ error: describeIssue(body.error) });
      return;
    }
    res.json(
      await o.service.resolveManually(
        String(req.params.id),
        (res.locals.who as { name: string }).name,
        body.data.note,
        clock(),
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
    res.json(await o.service.stats(since, until));
  });

  api.post('/notifications/:id/retry', need('operator'), async (req, res) => {
    if (!(await o.service.retryDead(String(req.params.id), clock()))) {
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
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.too.large') {
      o.metrics.webhooks.inc({ outcome: 'too_large' });
      res.status(413).json({ error: 'request body too large' });
      return;
    }
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
