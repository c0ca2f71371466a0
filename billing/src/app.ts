// HTTP shell of billing: authentication (Bearer tokens and roles), the handler wrapper, the error
// answers, and the composition of the route areas in routes/ (one file each, like SlaService.mount()):
// the staff REST API under /api/v1 (OpenAPI at /openapi.json), the Midtrans notification endpoint,
// /metrics, /healthz, /readyz. Every mounted route is recorded, so a test can hold the OpenAPI document
// to exactly what is mounted.
import express, { type NextFunction, type Request, type Response } from 'express';
import { RequestContext, type MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '@ispmon/service-kit';
import type { BillingCycle } from './cycle.js';
import { ApiError } from './db/sql.js';
import type { InvoiceService } from './invoices.js';
import type { BillingMetrics } from './metrics.js';
import type { PaymentService } from './payments/service.js';
import type { ResourceStore } from './resources.js';
import { mountAudit } from './routes/audit.js';
import { mountCycle } from './routes/cycle.js';
import { mountInvoices } from './routes/invoices.js';
import { mountOperations } from './routes/operations.js';
import { mountMidtransNotification, mountPayments } from './routes/payments.js';
import { mountResources } from './routes/resources.js';
import { mountRouterSync } from './routes/routers.js';
import { mountStaff } from './routes/staff.js';
import { mountSubscriptions } from './routes/subscriptions.js';
import { mountUsage } from './routes/usage.js';
import type { SubscriptionService } from './subscriptions.js';
import type { RouterSync } from './sync.js';
import { lookupToken, roles, type Role } from './tokens.js';
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
  /** True once a graceful stop began: readiness fails so a load balancer drops this replica. */
  stopping?: () => boolean;
}

declare module 'express-serve-static-core' {
  interface Request {
    staff?: { username: string; role: Role };
  }
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
  mount?(api: express.Router, tools: MountTools): void;
  /** Public routes outside /api/v1, no staff token (the isolation page). */
  mountPublic?(app: express.Router, tools: MountTools, o: AppOptions): void;
  /** Answers what no route matched, before the JSON 404 (the walled garden's landing). */
  mountFallback?(app: express.Router): void;
  /** Background jobs of the extension. */
  start?(): void;
  stop?(): Promise<void>;
}

export interface MountedRoute {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  /** Express form, e.g. /api/v1/invoices/:id */
  path: string;
}

const METHODS = new Set<string>(['get', 'post', 'patch', 'put', 'delete']);

/** The router as the route areas see it, recording each route it is given. */
function recording(router: express.Router, prefix: string, routes: MountedRoute[]): express.Router {
  return new Proxy(router, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || !METHODS.has(prop) || typeof value !== 'function') return value;
      return (path: unknown, ...handlers: unknown[]) => {
        if (typeof path === 'string')
          routes.push({ method: prop as MountedRoute['method'], path: `${prefix}${path}` });
        return (value as (...a: unknown[]) => unknown).call(target, path, ...handlers);
      };
    },
  });
}

/** The routes createApp mounted, in mount order. */
export function mountedRoutes(app: express.Express): MountedRoute[] {
  return (app.locals.routes as MountedRoute[] | undefined) ?? [];
}

export function createApp(o: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  const routes: MountedRoute[] = [];
  app.locals.routes = routes;
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
        if (!roles.allows(staff.role, needed)) {
          res.status(403).json({ error: `role ${staff.role} may not do this; needs ${needed}` });
          return;
        }
        req.staff = staff;
        next();
      } catch (err) {
        next(err);
      }
    };
  const id = (req: Request): string => {
    const v = String(req.params.id ?? '');
    if (!/^\d{1,18}$/.test(v)) throw new ApiError(400, 'id: must be a positive integer', 'id');
    return v;
  };
  const tools: MountTools = {
    read: role('viewer'),
    write: role('billing'),
    admin: role('admin'),
    h,
    id,
    actor,
    now,
  };

  const root = recording(app as unknown as express.Router, '', routes);
  mountOperations(root, o);
  mountMidtransNotification(root, tools, o, limit);
  for (const ext of o.extensions ?? []) ext.mountPublic?.(root, tools, o);

  const router = express.Router();
  router.use(express.json({ limit, strict: false }));
  // One unit of work (identity map) per request: resources.ts reads and writes through it.
  router.use((_req, _res, next) => RequestContext.create(o.orm.em, next));
  const api = recording(router, '/api/v1', routes);
  for (const area of [
    mountResources,
    mountUsage,
    mountSubscriptions,
    mountInvoices,
    mountPayments,
    mountAudit,
    mountCycle,
    mountRouterSync,
    mountStaff,
  ])
    area(api, tools, o);
  for (const ext of o.extensions ?? []) ext.mount?.(api, tools);

  app.use('/api/v1', router);
  for (const ext of o.extensions ?? []) ext.mountFallback?.(app);
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
    if (isDatabaseUnavailable(err)) {
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
