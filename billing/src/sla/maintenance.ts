// Maintenance windows of a link (scope 'link') or of its router (scope 'router'): created, listed and
// deleted by staff, audited; the SLA calculation leaves their minutes out of the month.
import type { MikroORM } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { ApiError, audit, notFound, one, q, tx } from '../db/sql.js';
import { present } from '../resources.js';
import { loadLink, type SlaLink } from './link.js';
import type { TimeWindow } from './types.js';

export const maintenanceSchema = z.strictObject({
  starts_at: z.iso.datetime({ offset: true }),
  ends_at: z.iso.datetime({ offset: true }),
  reason: z.string().trim().min(1, 'a reason is required').max(500),
  scope: z.enum(['link', 'router']).default('link'),
});
export type MaintenanceRequest = z.infer<typeof maintenanceSchema>;

export interface MaintenanceWindow extends TimeWindow {
  reason: string;
}

export async function listMaintenance(orm: MikroORM, linkId: string): Promise<Record<string, unknown>[]> {
  const rows = await q<Record<string, unknown>>(
    orm.em.fork(),
    'select * from maintenance_windows where link_id = ? order by starts_at desc',
    [linkId],
  );
  return rows.map((r) => present(undefined, r));
}

export async function createMaintenance(
  orm: MikroORM,
  linkId: string,
  body: MaintenanceRequest,
  actor: string,
  now: Date,
): Promise<Record<string, unknown>> {
  if (Date.parse(body.ends_at) <= Date.parse(body.starts_at))
    throw new ApiError(400, 'ends_at: must be after starts_at', 'ends_at');
  const link = await loadLink(orm, linkId);
  if (body.scope === 'router' && !link.router_id)
    throw new ApiError(400, 'scope: the link has no router', 'scope');
  return tx(orm, async (em) => {
    const row = await one<Record<string, unknown>>(
      em,
      'insert into maintenance_windows (link_id, router_id, starts_at, ends_at, reason, created_by) values (?, ?, ?, ?, ?, ?) returning *',
      [
        body.scope === 'link' ? link.id : null,
        body.scope === 'router' ? link.router_id : null,
        new Date(body.starts_at),
        new Date(body.ends_at),
        body.reason,
        actor,
      ],
    );
    await audit(em, now, {
      actor,
      entity: 'maintenance_windows',
      entityId: String(row?.id),
      action: 'create',
      reason: body.reason,
      detail: { link: link.code, scope: body.scope },
    });
    return present(undefined, row ?? {});
  });
}

export async function deleteMaintenance(orm: MikroORM, id: string, actor: string, now: Date): Promise<void> {
  await tx(orm, async (em) => {
    const rows = await q(em, 'delete from maintenance_windows where id = ? returning id', [id]);
    if (!rows.length) throw notFound('maintenance window', id);
    await audit(em, now, { actor, entity: 'maintenance_windows', entityId: id, action: 'delete' });
  });
}

/** The link's and its router's windows that overlap [start, end), oldest first. */
export async function maintenanceWithin(
  orm: MikroORM,
  link: SlaLink,
  period: TimeWindow,
): Promise<MaintenanceWindow[]> {
  const windows = await q<{ starts_at: string | Date; ends_at: string | Date; reason: string }>(
    orm.em.fork(),
    `select starts_at, ends_at, reason from maintenance_windows
      where (link_id = ? or (router_id is not null and router_id = ?)) and starts_at < ? and ends_at > ? order by starts_at`,
    [link.id, link.router_id ?? 0, period.end, period.start],
  );
  return windows.map((w) => ({ start: new Date(w.starts_at), end: new Date(w.ends_at), reason: w.reason }));
}
