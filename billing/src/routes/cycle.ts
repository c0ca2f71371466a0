// The billing cycle on demand (it also runs hourly).
import type express from 'express';
import { z } from 'zod';
import type { AppOptions, MountTools } from '../app.js';
import { parseBody } from '../resources.js';

export const cycleRunSchema = z.strictObject({ dry_run: z.boolean().default(false) });

export function mountCycle(api: express.Router, t: MountTools, o: AppOptions): void {
  api.post(
    '/billing-cycle/run',
    t.write,
    t.h(async (req) => {
      const body = parseBody(cycleRunSchema, req.body);
      return o.cycle.run(t.now(), { dryRun: body.dry_run, actor: t.actor(req) });
    }),
  );
}
