// The OpenAPI 3.1 document, generated from the route table and the zod schemas that validate the
// requests and check the answers (api/routes.ts, api/schemas.ts, payload.ts).
import { z } from 'zod';
import { ingestResultSchema } from './schemas.js';
import { webhookSchema } from '../payload.js';
import type { ApiRoute } from './routes.js';

type Json = Record<string, unknown>;

function schema(s: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(s, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as Json;
  return rest;
}

const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
const answer = (description: string): Json => ({ description, content: errorContent });
const ok = (description: string, s: z.ZodType): Json => ({
  description,
  content: { 'application/json': { schema: schema(s, 'output') } },
});

/** One parameter per field of an object schema (path or query). */
function parameters(s: z.ZodType | undefined, where: 'path' | 'query'): Json[] {
  if (!(s instanceof z.ZodObject)) return [];
  return Object.entries(s.shape as Record<string, z.ZodType>).map(([name, field]) => ({
    name,
    in: where,
    required: where === 'path' || !field.safeParse(undefined).success,
    ...(field.description ? { description: field.description } : {}),
    schema: schema(field, 'output'),
    ...(where === 'query' && name === 'label' ? { style: 'form', explode: true } : {}),
  }));
}

/** Routes outside the token-protected API, mounted by app.ts. */
export const plainRoutes: Array<{ method: 'get' | 'post'; path: string; operation: Json }> = [
  {
    method: 'post',
    path: '/webhook/alertmanager',
    operation: {
      summary: 'Alertmanager webhook (payload version 4); stored (committed) before the 200',
      security: [{ webhookBearer: [] }, { webhookBasic: [] }, {}],
      requestBody: {
        required: true,
        content: { 'application/json': { schema: schema(webhookSchema, 'input') } },
      },
      responses: {
        '200': ok('Stored', ingestResultSchema),
        '400': answer('Not JSON or not a valid v4 payload; stored raw with the reason'),
        '401': answer('Webhook credentials required and missing or wrong'),
        '413': answer('Body over WEBHOOK_MAX_BYTES; its beginning stored with the reason'),
        '503': answer('Database unavailable; Alertmanager retries'),
      },
    },
  },
  {
    method: 'get',
    path: '/healthz',
    operation: { summary: 'Liveness', security: [], responses: { '200': { description: 'Alive' } } },
  },
  {
    method: 'get',
    path: '/readyz',
    operation: {
      summary: 'Readiness (database reachable, not shutting down)',
      security: [],
      responses: {
        '200': { description: 'Ready: `{"status":"ready"}`' },
        '503': {
          description:
            'Not ready: `{"status":"database unavailable"}`, or `{"status":"shutting down"}` once a graceful stop began',
        },
      },
    },
  },
  {
    method: 'get',
    path: '/metrics',
    operation: {
      summary: 'Prometheus metrics',
      security: [],
      responses: { '200': { description: 'Text exposition format', content: { 'text/plain': {} } } },
    },
  },
  {
    method: 'get',
    path: '/openapi.json',
    operation: {
      summary: 'This document',
      security: [],
      responses: { '200': { description: 'OpenAPI 3.1' } },
    },
  },
];

export function buildOpenApi(routes: ApiRoute[]): Json {
  const paths: Record<string, Record<string, Json>> = {};
  const add = (path: string, method: string, operation: Json): void => {
    paths[path] = { ...(paths[path] ?? {}), [method]: operation };
  };
  for (const r of plainRoutes) add(r.path, r.method, r.operation);
  for (const r of routes)
    add(r.path, r.method, {
      summary: r.summary,
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: schema(r.body, 'input') } },
            },
          }
        : {}),
      responses: {
        '200': ok('Done', r.response),
        '400': answer('Invalid input; the message names the field'),
        '401': answer('Missing or unknown token'),
        '403': answer(`Role not allowed (needs ${r.role})`),
        ...Object.fromEntries(Object.entries(r.errors ?? {}).map(([code, d]) => [code, answer(d)])),
        '503': answer('Database unavailable'),
      },
    });
  return {
    openapi: '3.1.0',
    info: {
      title: 'ispmon alert router',
      version: '0.2.0',
      description:
        'Alert history, acknowledgement, resolution and statistics. Timestamps are ISO 8601 date-time. Tokens (Bearer): admin, operator (ack, resolve, retry), viewer (read).',
    },
    components: {
      securitySchemes: {
        token: { type: 'http', scheme: 'bearer' },
        webhookBearer: { type: 'http', scheme: 'bearer', description: 'WEBHOOK_BEARER_TOKEN' },
        webhookBasic: { type: 'http', scheme: 'basic', description: 'WEBHOOK_BASIC_AUTH_USERNAME/PASSWORD' },
      },
      schemas: { Error: schema(z.object({ error: z.string() }), 'output') },
    },
    security: [{ token: [] }],
    paths,
  };
}
