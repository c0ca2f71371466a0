// Subscriptions and the staff actions on them (suspend, restore, cancel).
import type express from 'express';
import type { AppOptions, MountTools } from '../app.js';

export function mountSubscriptions(api: express.Router, t: MountTools, o: AppOptions): void {
  api.get(
    '/subscriptions',
    t.read,
    t.h((req) => o.subscriptions.list(req.query as Record<string, unknown>)),
  );
  api.post(
    '/subscriptions',
    t.write,
    t.h((req) => o.subscriptions.create(req.body, t.actor(req), t.now()), 201),
  );
  api.get(
    '/subscriptions/:id',
    t.read,
    t.h((req) => o.subscriptions.get(t.id(req))),
  );
  api.patch(
    '/subscriptions/:id',
    t.write,
    t.h((req) => o.subscriptions.update(t.id(req), req.body, t.actor(req), t.now())),
  );
  for (const action of ['suspend', 'restore', 'cancel'] as const)
    api.post(
      `/subscriptions/:id/${action}`,
      t.write,
      t.h((req) => o.subscriptions[action](t.id(req), req.body, t.actor(req), t.now())),
    );
}
