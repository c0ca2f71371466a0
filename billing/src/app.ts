// HTTP surface of billing: the staff REST API under /api/v1 (OpenAPI at /openapi.json), the Midtrans
// notification endpoint, /metrics, /healthz, /readyz.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { BillingCycle } from './cycle.js';
import { ApiError, q } from './db/sql.js';
import type { InvoiceService } from './invoices.js';
import type { BillingMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import type { PaymentService } from './payments/service.js';
import {
  customerSpec,
  exactFilters,
  linkSpec,
  pageSchema,
  parseBody,
  planSpec,
  present,
  routerSpec,
  type ResourceSpec,
  type ResourceStore,
} from './resources.js';
import type { SubscriptionService } from './subscriptions.js';
import type { RouterSync } from './sync.js';
import { allows, issueToken, lookupToken, type Role } from './tokens.js';
import type { UsageService } from './usage.js';

export interface AppOptions {
  orm: MikroORM;
  logger: Logger;
  metrics: BillingMetrics;
  resources: ResourceStore;
  subscriptions: SubscriptionService;
  invoices: InvoiceService;
  cycle: BillingCycle;
  sync: RouterSync;
  payments: PaymentService;
  usage: UsageService;
  /** Further routes under /api/v1 (the SLA reports). */
  extensions?: ApiExtension[];
  clock: () => Date;
  maxBodyBytes?: number;
}

declare module 'express-serve-static-core' {
  interface Request {
    staff?: { username: string; role: Role };
  }
}

function isDatabaseError(err: unknown): boolean {
  const e = err as { code?: string; message?: string; name?: string };
  return (
    ['ECONNREFUSED', 'ECONNRESET', '57P01', '57P03', '08006', '08001', '08003', 'ETIMEDOUT'].includes(
      e.code ?? '',
    ) ||
    e.name === 'ConnectionException' ||
    /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/i.test(
      e.message ?? '',
    )
  );
}

export type Handler = (req: Request, res: Response) => Promise<unknown>;
type Middleware = (req: Request, res: Response, next: NextFunction) => Promise<void>;

export interface MountTools {
  read: Middleware;
  write: Middleware;
  admin: Middleware;
  h: (fn: Handler, status?: number) => Middleware;
  id: (req: Request) => string;
  actor: (req: Request) => string;
  now: () => Date;
}

export interface ApiExtension {
  mount(api: express.Router, tools: MountTools): void;
  /** Background jobs of the extension. */
  start?(): void;
  stop?(): Promise<void>;
}

export function createApp(o: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  const now = (): Date => o.clock();
  const actor = (req: Request): string => req.staff?.username ?? 'anonymous';
  const limit = o.maxBodyBytes ?? 1024 * 1024;

  /** Wraps an async handler: answers its result as JSON (201 for POST creates), errors as 4xx/5xx. */
  const h =
    (fn: Handler, status = 200) =>
    async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      try {
        const result = await fn(req, res);
        if (!res.headersSent) {
          if (result === undefined) res.status(204).end();
          else res.status(status).json(result);
        }
      } catch (err) {
        next(err);
      }
    };

  const role =
    (needed: Role) =>
    async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      const header = req.get('authorization') ?? '';
      const m = /^Bearer (\S+)$/.exec(header);
      if (!m?.[1]) {
        res.status(401).json({ error: 'missing bearer token' });
        return;
      }
      try {
        const staff = await lookupToken(o.orm, m[1]);
        if (!staff) {
          res.status(401).json({ error: 'unknown or revoked token' });
          return;
        }
        if (!allows(staff.role, needed)) {
          res.status(403).json({ error: `role ${staff.role} may not do this; needs ${needed}` });
          return;
        }
        req.staff = staff;
        next();
      } catch (err) {
        next(err);
      }
    };
  const read = role('viewer');
  const write = role('billing');
  const admin = role('admin');
  const id = (req: Request): string => {
    const v = String(req.params.id ?? '');
    if (!/^\d{1,18}$/.test(v)) throw new ApiError(400, 'id: must be a positive integer', 'id');
    return v;
  };

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    try {
      await o.orm.em.fork().execute('select 1', [], 'all');
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json({ status: 'database unavailable' });
    }
  });
  app.get('/metrics', async (_req, res) => {
    try {
      await refreshGauges(o);
    } catch {
      // database down: serve counters and process metrics anyway
    }
    res.type(o.metrics.registry.contentType).send(await o.metrics.registry.metrics());
  });
  app.get('/openapi.json', (_req, res) => void res.json(openApiDocument));

  // Midtrans HTTP notification: authenticated by its signature, not by a token. Raw body kept as sent.
  app.post(
    '/payments/midtrans/notification',
    express.raw({ type: () => true, limit }),
    h(async (req, res) => {
      const body: unknown = req.body;
      const r = await o.payments.handleNotification(Buffer.isBuffer(body) ? body : Buffer.alloc(0), now());
      res.status(r.status).json(r.body);
    }),
  );

  const api = express.Router();
  api.use(express.json({ limit, strict: false }));

  const crud = (path: string, spec: ResourceSpec, writeRole = write): void => {
    api.get(
      path,
      read,
      h((req) => o.resources.list(spec, req.query as Record<string, unknown>)),
    );
    api.post(
      path,
      writeRole,
      h((req) => o.resources.create(spec, req.body, actor(req), now()), 201),
    );
    api.get(
      `${path}/:id`,
      read,
      h((req) => o.resources.get(spec, id(req))),
    );
    api.patch(
      `${path}/:id`,
      writeRole,
      h((req) => o.resources.update(spec, id(req), req.body, actor(req), now())),
    );
    api.delete(
      `${path}/:id`,
      writeRole,
      h(async (req) => void (await o.resources.remove(spec, id(req), actor(req), now()))),
    );
  };
  crud('/customers', customerSpec);
  crud('/plans', planSpec);
  crud('/routers', routerSpec, admin);
  crud('/links', linkSpec);

  api.get(
    '/customers/:id/usage',
    read,
    h((req) => o.usage.customer(id(req), req.query as Record<string, unknown>, now())),
  );

  api.get(
    '/subscriptions',
    read,
    h((req) => o.subscriptions.list(req.query as Record<string, unknown>)),
  );
  api.post(
    '/subscriptions',
    write,
    h((req) => o.subscriptions.create(req.body, actor(req), now()), 201),
  );
  api.get(
    '/subscriptions/:id',
    read,
    h((req) => o.subscriptions.get(id(req))),
  );
  api.patch(
    '/subscriptions/:id',
    write,
    h((req) => o.subscriptions.update(id(req), req.body, actor(req), now())),
  );
  api.post(
    '/subscriptions/:id/suspend',
    write,
    h((req) => o.subscriptions.suspend(id(req), req.body, actor(req), now())),
  );
  api.post(
    '/subscriptions/:id/restore',
    write,
    h((req) => o.subscriptions.restore(id(req), req.body, actor(req), now())),
  );
  api.post(
    '/subscriptions/:id/cancel',
    write,
    h((req) => o.subscriptions.cancel(id(req), req.body, actor(req), now())),
  );
  api.get(
    '/subscriptions/:id/usage',
    read,
    h((req) => o.usage.subscription(id(req), req.query as Record<string, unknown>, now())),
  );

  api.get(
    '/invoices',
    read,
    h((req) => o.invoices.list(req.query as Record<string, unknown>)),
  );
  api.post(
    '/invoices',
    write,
    h((req) => o.invoices.createManual(req.body, actor(req), now()), 201),
  );
  api.get(
    '/invoices/:id',
    read,
    h((req) => o.invoices.get(id(req))),
  );
  api.post(
    '/invoices/:id/cancel',
    write,
    h((req) => o.invoices.cancel(id(req), req.body, actor(req), now())),
  );
  api.post(
    '/invoices/:id/payments',
    write,
    h((req) => o.invoices.payManually(id(req), req.body, actor(req), now()), 201),
  );
  api.post(
    '/invoices/:id/midtrans',
    write,
    h((req) => o.payments.createSnap(id(req), actor(req), now()), 201),
  );

  api.get(
    '/payments',
    read,
    h(async (req) =>
      listTable(
        o,
        'payments',
        req.query as Record<string, unknown>,
        ['invoice_id', 'method', 'provider_order_id'],
        'id, invoice_id, method, amount_idr, reference, provider_order_id, provider_transaction_id, payment_type, received_at, recorded_by',
      ),
    ),
  );
  api.get(
    '/midtrans/notifications',
    read,
    h(async (req) =>
      listTable(
        o,
        'midtrans_notifications',
        req.query as Record<string, unknown>,
        ['order_id', 'outcome', 'source', 'signature_valid'],
        '*',
      ),
    ),
  );
  api.post(
    '/midtrans/poll',
    write,
    h(async () => o.payments.pollPending(now())),
  );
  api.get(
    '/audit',
    read,
    h(async (req) =>
      listTable(
        o,
        'audit_log',
        req.query as Record<string, unknown>,
        ['entity', 'entity_id', 'actor', 'action'],
        '*',
      ),
    ),
  );

  const cycleSchema = z.strictObject({ dry_run: z.boolean().default(false) });
  api.post(
    '/billing-cycle/run',
    write,
    h(async (req) => {
      const body = parseBody(cycleSchema, req.body);
      return o.cycle.run(now(), { dryRun: body.dry_run, actor: actor(req) });
    }),
  );

  api.get(
    '/routers/:id/drift',
    read,
    h(async (req) => {
      const r = await o.sync.drift(id(req));
      if (!r) throw new ApiError(404, `router ${id(req)} not found`);
      return r;
    }),
  );
  const reconcileSchema = z.strictObject({ repair: z.boolean().default(false) });
  api.post(
    '/routers/:id/reconcile',
    admin,
    h(async (req) => {
      const body = parseBody(reconcileSchema, req.body);
      const r = body.repair ? await o.sync.repair(id(req)) : await o.sync.drift(id(req));
      if (!r) throw new ApiError(404, `router ${id(req)} not found`);
      return r;
    }),
  );
  api.post(
    '/sync/run',
    write,
    h(async () => o.sync.round(now())),
  );

  const staffSchema = z.strictObject({
    username: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .regex(/^[a-z0-9._-]+$/, 'lower-case letters, digits, dot, dash, underscore'),
    role: z.enum(['admin', 'billing', 'viewer']),
    label: z.string().max(100).optional(),
  });
  api.post(
    '/staff/tokens',
    admin,
    h(async (req) => {
      const body = parseBody(staffSchema, req.body);
      const token = await issueToken(o.orm, body.username, body.role, undefined, body.label ?? '');
      return { username: body.username, role: body.role, token };
    }, 201),
  );

  for (const ext of o.extensions ?? []) ext.mount(api, { read, write, admin, h, id, actor, now });

  app.use('/api/v1', api);
  app.use((_req, res) => void res.status(404).json({ error: 'no such endpoint; see /openapi.json' }));

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number; message?: string };
    if (err instanceof ApiError) {
      res.status(err.status).json({ error: err.message, ...(err.field ? { field: err.field } : {}) });
      return;
    }
    if (e.type === 'entity.parse.failed') {
      res.status(400).json({ error: '(body): not valid JSON' });
      return;
    }
    if (e.type === 'entity.too.large') {
      res.status(413).json({ error: 'body too large' });
      return;
    }
    if (isDatabaseError(err)) {
      o.logger.error(
        { event: 'database_unavailable', path: req.path, error: e.message },
        'database unavailable',
      );
      res.status(503).json({ error: 'database unavailable; nothing was changed, try again' });
      return;
    }
    o.logger.error(
      { event: 'request_failed', path: req.path, method: req.method, error: e.message },
      'request failed',
    );
    res.status(500).json({ error: 'internal error' });
  });
  return app;
}

async function listTable(
  o: AppOptions,
  table: string,
  query: Record<string, unknown>,
  filters: string[],
  columns: string,
): Promise<unknown> {
  const page = parseBody(pageSchema, query);
  const { where, params } = exactFilters(query, filters);
  const clause = where.length ? `where ${where.join(' and ')}` : '';
  const em = o.orm.em.fork();
  const rows = await q<Record<string, unknown>>(
    em,
    `select ${columns} from ${table} ${clause} order by id desc limit ? offset ?`,
    [...params, page.limit, page.offset],
  );
  const total = await q<{ n: string }>(em, `select count(*) as n from ${table} ${clause}`, params);
  return {
    items: rows.map((r) => present(undefined, r)),
    total: Number(total[0]?.n ?? 0),
    limit: page.limit,
    offset: page.offset,
  };
}

async function refreshGauges(o: AppOptions): Promise<void> {
  const em = o.orm.em.fork();
  const subs = await q<{ status: string; n: string }>(
    em,
    'select status, count(*) as n from subscriptions group by status',
  );
  o.metrics.subscriptions.reset();
  for (const s of ['active', 'suspended', 'expired', 'cancelled'])
    o.metrics.subscriptions.set({ status: s }, 0);
  for (const r of subs) o.metrics.subscriptions.set({ status: r.status }, Number(r.n));
  const pending = await q<{ n: string }>(
    em,
    "select count(*) as n from subscriptions where sync_state <> 'synced'",
  );
  o.metrics.subscriptionsPendingSync.set(Number(pending[0]?.n ?? 0));
  const inv = await q<{ status: string; n: string; due: string }>(
    em,
    'select status, count(*) as n, coalesce(sum(amount_idr - credit_idr), 0)::text as due from invoices group by status',
  );
  o.metrics.invoices.reset();
  for (const s of ['unpaid', 'paid', 'overdue', 'cancelled']) o.metrics.invoices.set({ status: s }, 0);
  o.metrics.overdueAmount.set(0);
  for (const r of inv) {
    o.metrics.invoices.set({ status: r.status }, Number(r.n));
    if (r.status === 'overdue') o.metrics.overdueAmount.set(Number(r.due));
  }
  const links = await q<{ code: string; customer: string; a: string; l: string | null; p: string | null }>(
    em,
    'select l.code, c.code as customer, l.availability_target_percent::text as a, l.latency_target_ms::text as l, l.loss_target_percent::text as p from client_links l join customers c on c.id = l.customer_id where l.active',
  );
  for (const g of [o.metrics.slaAvailabilityTarget, o.metrics.slaLatencyTarget, o.metrics.slaLossTarget])
    g.reset();
  for (const l of links) {
    const labels = { link: l.code, customer: l.customer };
    o.metrics.slaAvailabilityTarget.set(labels, Number(l.a) / 100);
    if (l.l !== null) o.metrics.slaLatencyTarget.set(labels, Number(l.l) / 1000);
    if (l.p !== null) o.metrics.slaLossTarget.set(labels, Number(l.p) / 100);
  }
}
