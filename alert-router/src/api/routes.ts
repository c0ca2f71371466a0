// The REST API as a table: each route names its method, path, role, the zod schemas of its input and
// output, and its handler. The same table mounts the routes (validation included) and generates the
// OpenAPI document, so a route cannot be served undocumented or documented unserved.
import type { Express, NextFunction, Request, Response } from 'express';
import express from 'express';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import { NotFoundError } from '../db/sql.js';
import type { IncidentActions } from '../lifecycle.js';
import type { NotificationOutbox } from '../notifications/outbox.js';
import { describeIssue } from '../payload.js';
import { apiRow, type IncidentQueries } from '../queries.js';
import { createSilence, SilenceRefused } from '../silences.js';
import { lookupToken, roles, type Role } from '../tokens.js';
import {
  ackBody,
  idParams,
  incidentDetailSchema,
  incidentListSchema,
  incidentSchema,
  listQuery,
  resolveBody,
  retryResultSchema,
  statsQuery,
  statsSchema,
} from './schemas.js';

export interface ApiDeps {
  orm: MikroORM;
  queries: IncidentQueries;
  actions: IncidentActions;
  outbox: NotificationOutbox;
  clock: () => Date;
  alertmanagerUrl?: string;
}

interface Input<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  who: { name: string; role: Role };
}

export interface ApiRoute {
  method: 'get' | 'post';
  /** OpenAPI form, `/api/v1/incidents/{id}`. */
  path: string;
  summary: string;
  role: Role;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** The success answer (200), checked before it is sent. */
  response: z.ZodType;
  /** Other answers this route gives besides 400/401/403/503. */
  errors?: Record<string, string>;
  handle(input: Input<unknown, unknown, unknown>, deps: ApiDeps): Promise<unknown>;
}

/** Typed at definition, erased in the table. */
function route<P, Q, B>(r: {
  method: 'get' | 'post';
  path: string;
  summary: string;
  role: Role;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  response: z.ZodType;
  errors?: Record<string, string>;
  handle(input: Input<P, Q, B>, deps: ApiDeps): Promise<unknown>;
}): ApiRoute {
  return r as unknown as ApiRoute;
}

/** Input that passed the schema but not a rule beyond it (400, the message names the field). */
export class InputError extends Error {}

function labelFilter(label: string | string[] | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const m of [label ?? []].flat()) {
    const eq = m.indexOf('=');
    if (eq < 1) throw new InputError(`label: '${m}' must be name=value`);
    labels[m.slice(0, eq)] = m.slice(eq + 1);
  }
  return labels;
}

export const apiRoutes: ApiRoute[] = [
  route({
    method: 'get',
    path: '/api/v1/incidents',
    summary: 'List incidents with filters, pagination and summary counts (viewer)',
    role: 'viewer',
    query: listQuery,
    response: incidentListSchema,
    handle: ({ query: q }, d) =>
      d.queries.list({
        ...(q.status ? { status: q.status } : {}),
        ...(q.severity ? { severity: q.severity } : {}),
        labels: labelFilter(q.label),
        ...(q.since ? { since: new Date(q.since) } : {}),
        ...(q.until ? { until: new Date(q.until) } : {}),
        limit: q.limit,
        offset: q.offset,
      }),
  }),
  route({
    method: 'get',
    path: '/api/v1/incidents/{id}',
    summary: 'One incident with its timeline and notifications (viewer)',
    role: 'viewer',
    params: idParams,
    response: incidentDetailSchema,
    errors: { '404': 'No such incident' },
    handle: ({ params }, d) => d.queries.get(params.id),
  }),
  route({
    method: 'post',
    path: '/api/v1/incidents/{id}/ack',
    summary: 'Acknowledge: stops escalation; with silenceMinutes also silences it in Alertmanager (operator)',
    role: 'operator',
    params: idParams,
    body: ackBody,
    response: incidentSchema,
    errors: {
      '404': 'No such incident',
      '502': 'Alertmanager refused or could not be reached for the silence',
    },
    handle: async ({ params, body, who }, d) => {
      const { incident } = await d.queries.get(params.id);
      let silenceId: string | undefined;
      if (body.silenceMinutes && d.alertmanagerUrl)
        silenceId = await createSilence(d.alertmanagerUrl, {
          labels: incident.labels,
          minutes: body.silenceMinutes,
          createdBy: who.name,
          comment: body.note ?? `acknowledged in ispmon (incident ${incident.id})`,
          now: d.clock(),
        });
      return apiRow(await d.actions.acknowledge(incident.id, who.name, body.note, d.clock(), silenceId));
    },
  }),
  route({
    method: 'post',
    path: '/api/v1/incidents/{id}/resolve',
    summary: 'Resolve by hand with a note: stops escalation, sends resolution notices (operator)',
    role: 'operator',
    params: idParams,
    body: resolveBody,
    response: incidentSchema,
    errors: { '404': 'No such incident' },
    handle: async ({ params, body, who }, d) =>
      apiRow(await d.actions.resolveManually(params.id, who.name, body.note, d.clock())),
  }),
  route({
    method: 'get',
    path: '/api/v1/stats',
    summary: 'Incidents by severity, MTTA and MTTR of incidents that started in a period (viewer)',
    role: 'viewer',
    query: statsQuery,
    response: statsSchema,
    handle: ({ query }, d) => {
      const until = query.until ? new Date(query.until) : d.clock();
      const since = query.since ? new Date(query.since) : new Date(until.getTime() - 30 * 86_400_000);
      return d.queries.stats(since, until);
    },
  }),
  route({
    method: 'post',
    path: '/api/v1/notifications/{id}/retry',
    summary: 'Put a dead-lettered notification back in the queue with a fresh budget of attempts (operator)',
    role: 'operator',
    params: idParams,
    response: retryResultSchema,
    errors: {
      '404': 'Not a dead-lettered notification',
      '409': 'A firing notice of a resolved incident (its resolution notice covers it)',
    },
    handle: async ({ params }, d) => {
      if (!(await d.outbox.retryDead(params.id, d.clock())))
        throw new NotFoundError(`notification ${params.id} is not dead-lettered`);
      return { status: 'pending' };
    },
  }),
];

/** `/a/{id}` → `/a/:id`. */
export function expressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

function parse(schema: z.ZodType | undefined, value: unknown): unknown {
  if (!schema) return {};
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw new InputError(describeIssue(r.error));
  return r.data;
}

export function mountApi(app: Express, routes: ApiRoute[], deps: ApiDeps): void {
  const json = express.json({ limit: '64kb' });
  const authenticate = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const header = req.get('authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    const who = token ? await lookupToken(deps.orm, token).catch(() => undefined) : undefined;
    if (!who) {
      res.status(401).json({ error: 'a valid API token is required (Authorization: Bearer …)' });
      return;
    }
    res.locals.who = who;
    next();
  };
  for (const r of routes) {
    const need = (req: Request, res: Response, next: NextFunction): void => {
      const who = res.locals.who as { name: string; role: Role };
      if (!roles.allows(who.role, r.role)) {
        res
          .status(403)
          .json({ error: `role ${who.role} may not ${req.method} ${req.path}; needs ${r.role}` });
        return;
      }
      next();
    };
    app[r.method](expressPath(r.path), json, authenticate, need, async (req: Request, res: Response) => {
      const params = r.params ? r.params.safeParse(req.params) : undefined;
      if (params && !params.success) {
        // A path that names no resource is a 404, as for an unknown id.
        res.status(404).json({ error: `${req.path}: not found (${describeIssue(params.error)})` });
        return;
      }
      const input = {
        params: params?.data ?? {},
        query: parse(r.query, req.query),
        body: parse(r.body, req.body),
        who: res.locals.who as { name: string; role: Role },
      };
      let result: unknown;
      try {
        result = await r.handle(input, deps);
      } catch (err) {
        if (err instanceof SilenceRefused) {
          res.status(502).json({ error: err.message });
          return;
        }
        throw err;
      }
      // The answer is checked against the documented schema, so the document cannot drift.
      res.json(r.response.parse(result));
    });
  }
}
