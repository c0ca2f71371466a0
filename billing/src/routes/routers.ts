// Routers against the database: drift report and repair, the walled garden, and a sync round on demand.
import type express from 'express';
import { z } from 'zod';
import type { AppOptions, MountTools } from '../app.js';
import { ApiError } from '../db/sql.js';
import type { GardenAction } from '../provisioning/walled-garden.js';
import { parseBody } from '../resources.js';

export const reconcileSchema = z.strictObject({ repair: z.boolean().default(false) });

export function mountRouterSync(api: express.Router, t: MountTools, o: AppOptions): void {
  api.get(
    '/routers/:id/drift',
    t.read,
    t.h(async (req) => {
      const r = await o.sync.drift(t.id(req));
      if (!r) throw new ApiError(404, `router ${t.id(req)} not found`);
      return r;
    }),
  );
  api.post(
    '/routers/:id/reconcile',
    t.admin,
    t.h(async (req) => {
      const body = parseBody(reconcileSchema, req.body);
      const r = body.repair ? await o.sync.repair(t.id(req)) : await o.sync.drift(t.id(req));
      if (!r) throw new ApiError(404, `router ${t.id(req)} not found`);
      return r;
    }),
  );
  // The walled garden for isolated subscribers (provisioning/walled-garden.ts).
  const garden = (action: GardenAction) =>
    t.h(async (req) => {
      const r = await o.sync.walledGarden(t.id(req), action);
      if (!r) throw new ApiError(404, `router ${t.id(req)} not found`);
      if (action === 'apply' && !r.configured)
        throw new ApiError(409, 'no walled garden configured: set BILLING_PORTAL_ADDRESS');
      return r;
    });
  api.get('/routers/:id/walled-garden', t.read, garden('diff'));
  api.put('/routers/:id/walled-garden', t.admin, garden('apply'));
  api.delete('/routers/:id/walled-garden', t.admin, garden('remove'));
  api.post(
    '/sync/run',
    t.write,
    t.h(async () => o.sync.round(t.now())),
  );
}
