// The REST API described for clients (OpenAPI 3.1), served at /openapi.json.
const incident = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    fingerprint: { type: 'string' },
    starts_at: { type: 'string', format: 'date-time' },
    alertname: { type: 'string' },
    severity: { type: 'string' },
    status: { type: 'string', enum: ['firing', 'resolved'] },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
    acknowledged_at: { type: ['string', 'null'], format: 'date-time' },
    acknowledged_by: { type: ['string', 'null'] },
    resolved_at: { type: ['string', 'null'], format: 'date-time' },
  },
};
const error = { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] };
const errors = {
  '400': {
    description: 'Invalid input; the message names the field',
    content: { 'application/json': { schema: error } },
  },
  '401': { description: 'Missing or unknown token', content: { 'application/json': { schema: error } } },
  '403': { description: 'Role not allowed', content: { 'application/json': { schema: error } } },
};

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'ispmon alert router',
    version: '0.1.0',
    description:
      'Alert history, acknowledgement and statistics. Tokens: admin, operator (ack/resolve), viewer (read).',
  },
  components: {
    securitySchemes: { token: { type: 'http', scheme: 'bearer' } },
    schemas: { Incident: incident, Error: error },
  },
  security: [{ token: [] }],
  paths: {
    '/webhook/alertmanager': {
      post: {
        summary: 'Alertmanager webhook (payload version 4)',
        security: [],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
        responses: {
          '200': { description: 'Stored (committed) before answering' },
          '400': errors['400'],
          '401': errors['401'],
          '413': { description: 'Body too large' },
          '503': { description: 'Database unavailable; Alertmanager retries' },
        },
      },
    },
    '/api/v1/incidents': {
      get: {
        summary: 'List incidents with filters, pagination and a summary',
        parameters: [
          {
            name: 'status',
            in: 'query',
            schema: { type: 'string', enum: ['firing', 'resolved', 'acknowledged'] },
          },
          { name: 'severity', in: 'query', schema: { type: 'string' } },
          {
            name: 'label',
            in: 'query',
            description: 'name=value, repeatable',
            schema: { type: 'array', items: { type: 'string' } },
            explode: true,
          },
          { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'until', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
          { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
        ],
        responses: {
          '200': {
            description: 'Incidents',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    items: { type: 'array', items: { $ref: '#/components/schemas/Incident' } },
                    total: { type: 'integer' },
                    summary: { type: 'object' },
                  },
                },
              },
            },
          },
          ...errors,
        },
      },
    },
    '/api/v1/incidents/{id}': {
      get: {
        summary: 'One incident with its timeline and notifications',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: 'Incident' }, '404': { description: 'Not found' }, ...errors },
      },
    },
    '/api/v1/incidents/{id}/ack': {
      post: {
        summary: 'Acknowledge (stops escalation); optionally silence in Alertmanager',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  note: { type: 'string' },
                  silenceMinutes: { type: 'integer', minimum: 1, maximum: 10080 },
                },
              },
            },
          },
        },
        responses: {
          '200': { description: 'Acknowledged incident' },
          '404': { description: 'Not found' },
          ...errors,
        },
      },
    },
    '/api/v1/incidents/{id}/resolve': {
      post: {
        summary: 'Resolve by hand with a note',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { type: 'object', required: ['note'], properties: { note: { type: 'string' } } },
            },
          },
        },
        responses: {
          '200': { description: 'Resolved incident' },
          '404': { description: 'Not found' },
          ...errors,
        },
      },
    },
    '/api/v1/stats': {
      get: {
        summary: 'Counts by severity, MTTA and MTTR over a period (default: last 30 days)',
        parameters: [
          { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'until', in: 'query', schema: { type: 'string', format: 'date-time' } },
        ],
        responses: { '200': { description: 'Statistics' }, ...errors },
      },
    },
    '/api/v1/notifications/{id}/retry': {
      post: {
        summary: 'Retry a dead-lettered notification',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': { description: 'Pending again' },
          '404': { description: 'Not dead-lettered' },
          ...errors,
        },
      },
    },
    '/healthz': {
      get: { summary: 'Liveness', security: [], responses: { '200': { description: 'Alive' } } },
    },
    '/readyz': {
      get: {
        summary: 'Readiness (database reachable)',
        security: [],
        responses: { '200': { description: 'Ready' }, '503': { description: 'Database unavailable' } },
      },
    },
  },
};
