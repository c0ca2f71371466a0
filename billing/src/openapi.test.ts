// The OpenAPI document against the routes billing really mounts (with the SLA and notice extensions, as main.ts
// wires it): every mounted route documented, every documented route mounted, each request body
// generated from the zod schema that validates it.
import { startPostgres, type PostgresServer } from '@ispmon/testkit';
import { startHarness, type Harness } from '../test/harness.js';
import { openApiDocument } from './openapi.js';
import { portalExtensions } from './portal/wiring.js';
import { noticeExtensions } from './notices/wiring.js';
import { maintenanceSchema } from './sla/service.js';
import { slaExtensions } from './sla/wiring.js';
import { createSubscriptionSchema } from './subscriptions.js';

const METHODS = ['get', 'post', 'patch', 'put', 'delete'];

describe('the OpenAPI document', () => {
  let pg: PostgresServer;
  let t: Harness;

  beforeAll(async () => {
    pg = await startPostgres();
    const sla = slaExtensions({});
    const portal = portalExtensions({});
    const notices = noticeExtensions({});
    t = await startHarness(pg, { extensions: (deps) => [...sla(deps), ...portal(deps), ...notices(deps)] });
  });
  afterAll(async () => {
    await t?.stop();
    await pg?.stop();
  });

  const documented = (): string[] =>
    Object.entries(openApiDocument.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((k) => METHODS.includes(k))
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
  const mounted = (): string[] =>
    t.runtime.routes.map((r) => `${r.method.toUpperCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`);

  it('documents every mounted route and mounts every documented one', () => {
    expect(mounted().length).toBeGreaterThan(50);
    expect(new Set(mounted()).size).toBe(mounted().length); // nothing mounted twice
    expect([...mounted()].sort()).toEqual([...documented()].sort());
    expect(mounted()).toEqual(
      expect.arrayContaining([
        'GET /healthz',
        'POST /payments/midtrans/notification',
        'POST /api/v1/staff/tokens',
        'POST /api/v1/links/{id}/maintenance',
        'GET /api/v1/reports/{id}/pdf',
        'POST /api/v1/sla/run-monthly',
        'GET /portal',
        'POST /portal/link/{token}/pay',
      ]),
    );
  });

  it('is served at /openapi.json with request bodies from the validating schemas', async () => {
    const served = (await (await fetch(`${t.runtime.url}/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>
      >;
    };
    const bodyOf = (path: string, method: string) =>
      served.paths[path]?.[method]?.requestBody?.content['application/json']?.schema as {
        properties: Record<string, unknown>;
        required?: string[];
      };
    expect(Object.keys(bodyOf('/api/v1/subscriptions', 'post').properties).sort()).toEqual(
      Object.keys(createSubscriptionSchema.shape).sort(),
    );
    expect(Object.keys(bodyOf('/api/v1/links/{id}/maintenance', 'post').properties).sort()).toEqual(
      Object.keys(maintenanceSchema.shape).sort(),
    );
    expect(bodyOf('/api/v1/staff/tokens', 'post').required?.sort()).toEqual(['role', 'username']);
  });
});
