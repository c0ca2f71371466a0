// Customers, plans, routers and client links: the same five routes each, from their ResourceSpec.
import type express from 'express';
import type { AppOptions, MountTools } from '../app.js';
import { customerSpec, linkSpec, planSpec, routerSpec, type ResourceSpec } from '../resources.js';

export function mountResources(api: express.Router, t: MountTools, o: AppOptions): void {
  const crud = (path: string, spec: ResourceSpec, writeRole = t.write): void => {
    api.get(
      path,
      t.read,
      t.h((req) => o.resources.list(spec, req.query as Record<string, unknown>)),
    );
    api.post(
      path,
      writeRole,
      t.h((req) => o.resources.create(spec, req.body, t.actor(req), t.now()), 201),
    );
    api.get(
      `${path}/:id`,
      t.read,
      t.h((req) => o.resources.get(spec, t.id(req))),
    );
    api.patch(
      `${path}/:id`,
      writeRole,
      t.h((req) => o.resources.update(spec, t.id(req), req.body, t.actor(req), t.now())),
    );
    api.delete(
      `${path}/:id`,
      writeRole,
      t.h(async (req) => void (await o.resources.remove(spec, t.id(req), t.actor(req), t.now()))),
    );
  };
  crud('/customers', customerSpec);
  crud('/plans', planSpec);
  crud('/routers', routerSpec, t.admin);
  crud('/links', linkSpec);
}
