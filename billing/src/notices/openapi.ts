// The notice routes in the OpenAPI document (openapi.ts spreads these paths in); the settings body and
// the list filters come from the zod schemas that validate them.
import { z } from 'zod';
import { noticeListSchema, noticeSettingsSchema } from './routes.js';

const json = (schema: z.ZodType, io: 'input' | 'output' = 'input'): Record<string, unknown> =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
const error = (description: string): Record<string, unknown> => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});
const errors = {
  '400': error('Invalid input; `error` names the field and the reason'),
  '401': error('Missing or unknown token'),
  '403': error('Role not allowed'),
  '404': error('Not found'),
  '503': error('Database unavailable; nothing was changed'),
};
const ok = (description: string): Record<string, unknown> => ({
  description,
  content: { 'application/json': { schema: { type: 'object' } } },
});
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };
const listParams = Object.entries(
  (json(noticeListSchema) as { properties: Record<string, Record<string, unknown>> }).properties,
).map(([name, schema]) => ({ name, in: 'query', schema }));

export const noticePaths: Record<string, unknown> = {
  '/api/v1/notices': {
    get: {
      tags: ['notices'],
      summary:
        'Notices to subscribers (invoice issued, reminder, overdue, suspended, paid, restored) by e-mail, SMS and WhatsApp, newest first (viewer)',
      parameters: listParams,
      responses: {
        '200': {
          description: 'A page',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Page' } } },
        },
        ...errors,
      },
    },
  },
  '/api/v1/notices/{id}': {
    parameters: [idParam],
    get: {
      tags: ['notices'],
      summary: 'One notice with its delivery attempts (viewer)',
      responses: { '200': ok('Found'), ...errors },
    },
  },
  '/api/v1/notices/{id}/resend': {
    parameters: [idParam],
    post: {
      tags: ['notices'],
      summary:
        'Send a sent or dead notice again, with a new idempotency key and a fresh budget of attempts (billing); quiet hours still apply',
      responses: {
        '200': ok('The notice, pending again'),
        ...errors,
        '409': error('The notice is pending, suppressed or superseded'),
      },
    },
  },
  '/api/v1/customers/{id}/notice-settings': {
    parameters: [idParam],
    get: {
      tags: ['notices'],
      summary: "The customer's notice channels, language and opt-out, with the configured channels (viewer)",
      responses: { '200': ok('Settings'), ...errors },
    },
    put: {
      tags: ['notices'],
      summary: "Change the customer's notice channels, language or opt-out; fields left out stay (billing)",
      requestBody: {
        required: true,
        content: { 'application/json': { schema: json(noticeSettingsSchema) } },
      },
      responses: { '200': ok('Settings'), ...errors },
    },
  },
};
