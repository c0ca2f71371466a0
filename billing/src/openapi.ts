// The staff REST API described for clients (OpenAPI 3.1), served at /openapi.json. Request bodies are
// generated from the same zod schemas that validate them (the SLA routes' too), so the document cannot
// drift from the code; openapi.test.ts holds its paths to exactly the routes createApp mounts.
import { z } from 'zod';
import { cancelSchema, manualInvoiceSchema, manualPaymentSchema } from './invoices.js';
import { noticePaths } from './notices/openapi.js';
import { customerSpec, linkSpec, planSpec, routerSpec, type ResourceSpec } from './resources.js';
import { portalPaySchema } from './portal/routes.js';
import { cycleRunSchema } from './routes/cycle.js';
import { reconcileSchema } from './routes/routers.js';
import { staffTokenSchema } from './routes/staff.js';
import { maintenanceSchema, reportSchema } from './sla/service.js';
import { createSubscriptionSchema, reasonSchema, updateSubscriptionSchema } from './subscriptions.js';

const json = (schema: z.ZodType): Record<string, unknown> =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;

function resourceSchema(spec: ResourceSpec, partial: boolean): Record<string, unknown> {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, f] of Object.entries(spec.fields))
    shape[name] = partial || !f.required ? f.schema.optional() : f.schema;
  return json(z.strictObject(shape));
}

const error = {
  type: 'object',
  properties: { error: { type: 'string' }, field: { type: 'string' } },
  required: ['error'],
};
const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
const errors = {
  '400': {
    description: 'Invalid input; `error` names the field and the reason, `field` the field',
    content: errorContent,
  },
  '401': { description: 'Missing or unknown token', content: errorContent },
  '403': { description: 'Role not allowed', content: errorContent },
  '404': { description: 'Not found', content: errorContent },
  '409': {
    description: 'Conflicts with the current state (duplicate, already paid, wrong status)',
    content: errorContent,
  },
  '503': { description: 'Database unavailable; nothing was changed', content: errorContent },
};
const pageParams = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
  { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
  { name: 'q', in: 'query', schema: { type: 'string' }, description: 'Search text' },
];
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };
const page = {
  type: 'object',
  properties: {
    items: { type: 'array', items: { type: 'object' } },
    total: { type: 'integer' },
    limit: { type: 'integer' },
    offset: { type: 'integer' },
  },
};
const ok = (
  description: string,
  schema: Record<string, unknown> = { type: 'object' },
): Record<string, unknown> => ({ description, content: { 'application/json': { schema } } });
const body = (schema: Record<string, unknown>): Record<string, unknown> => ({
  required: true,
  content: { 'application/json': { schema } },
});
const filters = (names: string[]): Array<Record<string, unknown>> =>
  names.map((name) => ({
    name,
    in: 'query',
    schema: { type: 'string' },
    description: `Exact match on ${name}`,
  }));

function crud(path: string, spec: ResourceSpec, role: string): Record<string, unknown> {
  const tag = spec.name;
  return {
    [path]: {
      get: {
        tags: [tag],
        summary: `List ${spec.table} (viewer)`,
        parameters: [...pageParams, ...filters(spec.filters)],
        responses: { '200': ok('A page', page), '400': errors['400'], '401': errors['401'] },
      },
      post: {
        tags: [tag],
        summary: `Create a ${spec.name} (${role})`,
        requestBody: body(resourceSchema(spec, false)),
        responses: { '201': ok('Created'), ...errors },
      },
    },
    [`${path}/{id}`]: {
      parameters: [idParam],
      get: {
        tags: [tag],
        summary: `One ${spec.name} (viewer)`,
        responses: { '200': ok('Found'), '404': errors['404'] },
      },
      patch: {
        tags: [tag],
        summary: `Change a ${spec.name} (${role})`,
        requestBody: body(resourceSchema(spec, true)),
        responses: { '200': ok('Changed'), ...errors },
      },
      delete: {
        tags: [tag],
        summary: `Delete a ${spec.name} (${role}); 409 while still referenced`,
        responses: { '204': { description: 'Deleted' }, ...errors },
      },
    },
  };
}

const action = (
  tag: string,
  summary: string,
  schema?: z.ZodType,
  status = '200',
): Record<string, unknown> => ({
  post: {
    tags: [tag],
    summary,
    ...(schema ? { requestBody: body(json(schema)) } : {}),
    responses: { [status]: ok('Done'), ...errors },
  },
});

const portalLang = {
  name: 'lang',
  in: 'query',
  schema: { type: 'string', enum: ['id', 'en'] },
  description: 'Language; overrides Accept-Language',
};
const portalToken = {
  name: 'token',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: '<subscription id>.<expiry, unix seconds>.<HMAC-SHA256, base64url>',
};
const portalForm = {
  required: true,
  content: { 'application/x-www-form-urlencoded': { schema: json(portalPaySchema) } },
};
const portalPayResponses = {
  '303': {
    description:
      "To Midtrans Snap's payment page; back to the page when the invoice is not payable there (paid meanwhile, not this subscriber's)",
  },
  '429': { description: 'Rate limited' },
  '502': { description: 'Midtrans refused or did not answer (the page, with a message)' },
  '503': { description: 'Midtrans is not configured' },
};

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'ispmon billing',
    version: '0.1.0',
    description:
      'Customers, plans, routers, subscriptions (PPP secrets on MikroTik), invoices, payments (cash, transfer, Midtrans Snap), suspension and restore, the billing cycle, reconciliation with routers, the audit log, client links and SLA reports. Money is whole rupiah (IDR has no minor unit) as JSON integers or digit strings. Tokens (Bearer): admin (everything incl. routers and staff), billing (day-to-day writes), viewer (read only).',
  },
  components: {
    securitySchemes: { token: { type: 'http', scheme: 'bearer' } },
    schemas: { Error: error, Page: page },
  },
  security: [{ token: [] }],
  paths: {
    ...crud('/api/v1/customers', customerSpec, 'billing'),
    ...crud('/api/v1/plans', planSpec, 'billing'),
    ...crud('/api/v1/routers', routerSpec, 'admin'),
    ...crud('/api/v1/links', linkSpec, 'billing'),
    '/api/v1/customers/{id}/usage': {
      parameters: [
        idParam,
        { name: 'from', in: 'query', schema: { type: 'string', format: 'date-time' } },
        { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' } },
      ],
      get: {
        tags: ['usage'],
        summary: "Traffic of the customer's subscriptions over a period, from Prometheus",
        responses: { '200': ok('Bytes up/down and data coverage'), ...errors },
      },
    },
    '/api/v1/subscriptions': {
      get: {
        tags: ['subscription'],
        summary: 'List subscriptions',
        parameters: [
          ...pageParams,
          ...filters(['status', 'customer_id', 'plan_id', 'router_id', 'sync_state', 'ppp_username']),
        ],
        responses: { '200': ok('A page', page), ...errors },
      },
      post: {
        tags: ['subscription'],
        summary:
          'Create a subscription: PPP secret on the router with the plan profile, first invoice (billing)',
        requestBody: body(json(createSubscriptionSchema)),
        responses: { '201': ok('Created; ppp_password is returned once when it was generated'), ...errors },
      },
    },
    '/api/v1/subscriptions/{id}': {
      parameters: [idParam],
      get: {
        tags: ['subscription'],
        summary: 'One subscription with its router sync state',
        responses: { '200': ok('Found'), '404': errors['404'] },
      },
      patch: {
        tags: ['subscription'],
        summary: 'Change plan, password, addresses or auto-renew; the router follows (billing)',
        requestBody: body(json(updateSubscriptionSchema)),
        responses: { '200': ok('Changed'), ...errors },
      },
    },
    '/api/v1/subscriptions/{id}/suspend': {
      parameters: [idParam],
      ...action(
        'subscription',
        'Suspend by hand with a reason: isolation profile or disabled secret, session dropped (billing)',
        reasonSchema,
      ),
    },
    '/api/v1/subscriptions/{id}/restore': {
      parameters: [idParam],
      ...action('subscription', 'Restore by hand with a reason (billing)', reasonSchema),
    },
    '/api/v1/subscriptions/{id}/cancel': {
      parameters: [idParam],
      ...action('subscription', 'Cancel: the PPP secret is removed from the router (billing)', reasonSchema),
    },
    '/api/v1/subscriptions/{id}/usage': {
      parameters: [
        idParam,
        { name: 'from', in: 'query', schema: { type: 'string', format: 'date-time' } },
        { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' } },
      ],
      get: {
        tags: ['usage'],
        summary: 'Traffic of one subscription over a period, from Prometheus',
        responses: { '200': ok('Bytes up/down and data coverage'), ...errors },
      },
    },
    '/api/v1/invoices': {
      get: {
        tags: ['invoice'],
        summary: 'List invoices',
        parameters: [
          ...pageParams,
          ...filters(['status', 'customer_id', 'subscription_id', 'kind', 'number']),
          { name: 'due_before', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'due_after', in: 'query', schema: { type: 'string', format: 'date-time' } },
        ],
        responses: { '200': ok('A page', page), ...errors },
      },
      post: {
        tags: ['invoice'],
        summary: 'Create a manual invoice (billing)',
        requestBody: body(json(manualInvoiceSchema)),
        responses: { '201': ok('Created'), ...errors },
      },
    },
    '/api/v1/invoices/{id}': {
      parameters: [idParam],
      get: {
        tags: ['invoice'],
        summary: 'One invoice with its payments and Midtrans orders',
        responses: { '200': ok('Found'), '404': errors['404'] },
      },
    },
    '/api/v1/invoices/{id}/cancel': {
      parameters: [idParam],
      ...action('invoice', 'Cancel an unpaid invoice with a reason (billing)', cancelSchema),
    },
    '/api/v1/invoices/{id}/payments': {
      parameters: [idParam],
      ...action(
        'invoice',
        'Mark paid by cash or transfer: exact amount due (billing)',
        manualPaymentSchema,
        '201',
      ),
    },
    '/api/v1/invoices/{id}/midtrans': {
      parameters: [idParam],
      ...action(
        'invoice',
        'Create a Midtrans Snap transaction (new order id per attempt); returns token and redirect_url (billing)',
        undefined,
        '201',
      ),
    },
    '/api/v1/payments': {
      get: {
        tags: ['payment'],
        summary: 'List payments',
        parameters: [...pageParams, ...filters(['invoice_id', 'method', 'provider_order_id'])],
        responses: { '200': ok('A page', page), ...errors },
      },
    },
    '/api/v1/midtrans/notifications': {
      get: {
        tags: ['payment'],
        summary: 'Every Midtrans notification and status poll, raw, with its outcome',
        parameters: [...pageParams, ...filters(['order_id', 'outcome', 'source', 'signature_valid'])],
        responses: { '200': ok('A page', page), ...errors },
      },
    },
    '/api/v1/midtrans/poll': action(
      'payment',
      'Ask Midtrans now about orders whose notification never came (billing)',
    ),
    '/payments/midtrans/notification': {
      post: {
        tags: ['payment'],
        summary:
          "Midtrans HTTP notification (Midtrans's payload; authenticated by signature_key, not a token)",
        security: [],
        requestBody: body({ type: 'object' }),
        responses: {
          '200': ok(
            "The status API's answer applied, or a duplicate/ignored status; `outcome` says which, `note` when the notification disagreed with the status API",
          ),
          '400': {
            description:
              'Malformed notification: not JSON, not UTF-8, a NUL character, or a status_code that does not go with transaction_status (stored, nothing applied)',
          },
          '401': { description: 'signature_key does not verify (stored, nothing applied)' },
          '404': { description: 'Unknown order_id (stored)' },
          '409': { description: 'transaction_id already booked for another order (stored, nothing applied)' },
          '422': {
            description:
              'gross_amount is not the amount due, or the status API does not know the order (stored, nothing applied)',
          },
          '502': { description: "The status API's answer was refused (stored, nothing applied)" },
          '503': { description: 'Database or status API unavailable; Midtrans retries' },
        },
      },
    },
    '/api/v1/billing-cycle/run': action(
      'billing cycle',
      'Run the billing cycle now: renewal invoices, overdue, suspensions, expiry; dry_run shows what would happen (billing)',
      cycleRunSchema,
    ),
    '/api/v1/routers/{id}/drift': {
      parameters: [idParam],
      get: {
        tags: ['router'],
        summary:
          "Differences between the database and the router (missing secret, wrong profile, wrong disabled state, wrong password, unknown managed secret), and the walled garden's (walledGarden)",
        responses: { '200': ok('Drift list'), ...errors },
      },
    },
    '/api/v1/routers/{id}/reconcile': {
      parameters: [idParam],
      ...action('router', 'Report drift, and repair it with repair=true (admin)', reconcileSchema),
    },
    '/api/v1/routers/{id}/walled-garden': {
      parameters: [idParam],
      get: {
        tags: ['router'],
        summary:
          'The walled garden for the isolation address list on the router: what billing wants (NAT, filter, address-list) and how the router differs (missing, changed, misordered or extra rules and entries) (viewer)',
        responses: { '200': ok('Walled garden report'), ...errors },
      },
      put: {
        tags: ['router'],
        summary:
          'Bring the walled garden in line; sends nothing when nothing differs. 409 when BILLING_PORTAL_ADDRESS is not set (admin)',
        responses: { '200': ok('Walled garden report, drift as it was before, commandsSent'), ...errors },
      },
      delete: {
        tags: ['router'],
        summary:
          "Remove billing's walled garden rules and entries (those tagged ispmon:walled-garden) from the router (admin)",
        responses: { '200': ok('Walled garden report, commandsSent'), ...errors },
      },
    },
    '/api/v1/sync/run': action('router', 'Run one router sync round now (billing)'),
    '/api/v1/audit': {
      get: {
        tags: ['audit'],
        summary: 'The append-only audit log of every state change, with who and why',
        parameters: [...pageParams, ...filters(['entity', 'entity_id', 'actor', 'action'])],
        responses: { '200': ok('A page', page), ...errors },
      },
    },
    '/api/v1/staff/tokens': {
      post: {
        tags: ['staff'],
        summary: 'Create a staff user (or change its role) and issue a token, shown once (admin)',
        requestBody: body(json(staffTokenSchema)),
        responses: { '201': ok('Token'), ...errors },
      },
    },
    '/api/v1/links/{id}/maintenance': {
      parameters: [idParam],
      get: {
        tags: ['sla'],
        summary: "The link's maintenance windows (and its router's), excluded from its SLA (viewer)",
        responses: { '200': ok('Maintenance windows'), ...errors },
      },
      post: {
        tags: ['sla'],
        summary: 'Plan a maintenance window for the link or its whole router (billing)',
        requestBody: body(json(maintenanceSchema)),
        responses: { '201': ok('Created'), ...errors },
      },
    },
    '/api/v1/maintenance/{id}': {
      parameters: [idParam],
      delete: {
        tags: ['sla'],
        summary: 'Delete a maintenance window (billing)',
        responses: { '204': { description: 'Deleted' }, ...errors },
      },
    },
    '/api/v1/links/{id}/reports': {
      parameters: [idParam],
      get: {
        tags: ['sla'],
        summary: "The link's monthly SLA reports (viewer)",
        parameters: pageParams,
        responses: { '200': ok('A page', page), ...errors },
      },
      post: {
        tags: ['sla'],
        summary:
          'Produce (or with force, redo) the SLA report of a month: figures, PDF, e-mail, credit (billing)',
        requestBody: body(json(reportSchema)),
        responses: { '201': ok('The report summary'), ...errors },
      },
    },
    '/api/v1/reports/{id}/pdf': {
      parameters: [idParam],
      get: {
        tags: ['sla'],
        summary: 'The SLA report as PDF (viewer)',
        responses: { '200': { description: 'PDF', content: { 'application/pdf': {} } }, ...errors },
      },
    },
    '/api/v1/sla-credits': {
      get: {
        tags: ['sla'],
        summary: 'Credits owed for breached months, and the invoice each was applied to (viewer)',
        responses: {
          '200': ok('Up to 500 credits, newest first', { type: 'array', items: { type: 'object' } }),
          ...errors,
        },
      },
    },
    '/api/v1/sla/run-monthly': action(
      'sla',
      "Produce the previous month's reports of every link that has none yet (billing)",
    ),
    ...noticePaths,
    '/metrics': {
      get: {
        tags: ['operations'],
        security: [],
        summary: 'Prometheus metrics',
        responses: { '200': { description: 'Text exposition' } },
      },
    },
    '/openapi.json': {
      get: {
        tags: ['operations'],
        security: [],
        summary: 'This document',
        responses: { '200': ok('OpenAPI 3.1') },
      },
    },
    '/portal': {
      get: {
        tags: ['portal'],
        security: [],
        summary:
          "Isolation page (HTML) for the subscriber whose PPP address is the request's source (X-Forwarded-For only from PORTAL_TRUSTED_PROXIES); Indonesian unless Accept-Language or ?lang=en says English",
        parameters: [portalLang],
        responses: {
          '200': {
            description:
              'The suspended subscriber: name, plan, overdue invoices, amount due, Pay buttons; or "restored" within a day of a restore; the same neutral page for an unknown or not suspended address',
            content: { 'text/html': { schema: { type: 'string' } } },
          },
          '429': { description: 'More than PORTAL_RATE_LIMIT_PER_MINUTE requests from this address' },
        },
      },
    },
    '/portal/pay': {
      post: {
        tags: ['portal'],
        security: [],
        summary: "Pay button: starts a Midtrans Snap payment for one of the page's overdue invoices",
        requestBody: portalForm,
        responses: portalPayResponses,
      },
    },
    '/portal/link/{token}': {
      parameters: [portalToken],
      get: {
        tags: ['portal'],
        security: [],
        summary: 'The isolation page through a signed, expiring link (as notices carry)',
        parameters: [portalLang],
        responses: {
          '200': {
            description: 'As GET /portal, for the subscription the link names',
            content: { 'text/html': { schema: { type: 'string' } } },
          },
          '403': { description: 'Forged, malformed or expired link (a neutral page)' },
          '429': { description: 'Rate limited' },
        },
      },
    },
    '/portal/link/{token}/pay': {
      parameters: [portalToken],
      post: {
        tags: ['portal'],
        security: [],
        summary: 'Pay button of the page reached through a signed link',
        requestBody: portalForm,
        responses: portalPayResponses,
      },
    },
    '/healthz': {
      get: {
        tags: ['operations'],
        security: [],
        summary: 'Liveness',
        responses: { '200': { description: 'Alive' } },
      },
    },
    '/readyz': {
      get: {
        tags: ['operations'],
        security: [],
        summary: 'Readiness (database reachable, not shutting down)',
        responses: {
          '200': { description: 'Ready' },
          '503': { description: 'Database unavailable, or shutting down (a graceful stop began)' },
        },
      },
    },
  } as Record<string, unknown>,
};
