// The append-only audit log.
import type express from 'express';
import type { AppOptions, MountTools } from '../app.js';
import { listTable } from '../db/list.js';

export function mountAudit(api: express.Router, t: MountTools, o: AppOptions): void {
  api.get(
    '/audit',
    t.read,
    t.h(async (req) =>
      listTable(
        o.orm.em.fork(),
        'audit_log',
        req.query as Record<string, unknown>,
        ['entity', 'entity_id', 'actor', 'action'],
        '*',
      ),
    ),
  );
}
