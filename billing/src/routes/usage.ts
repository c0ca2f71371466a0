// Traffic per subscription and per customer, from Prometheus.
import type express from 'express';
import type { AppOptions, MountTools } from '../app.js';

export function mountUsage(api: express.Router, t: MountTools, o: AppOptions): void {
  api.get(
    '/customers/:id/usage',
    t.read,
    t.h((req) => o.usage.customer(t.id(req), req.query as Record<string, unknown>, t.now())),
  );
  api.get(
    '/subscriptions/:id/usage',
    t.read,
    t.h((req) => o.usage.subscription(t.id(req), req.query as Record<string, unknown>, t.now())),
  );
}
