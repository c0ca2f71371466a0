// Retention: resolved incidents older than `retention_days` are deleted (events and notifications
// cascade); firing incidents are kept whatever their age.
import type { MikroORM } from '@mikro-orm/postgresql';
import { q } from './db/sql.js';

export async function purgeResolved(orm: MikroORM, retentionDays: number, now: Date): Promise<number> {
  const rows = await q(
    orm.em.fork(),
    "delete from incidents where status = 'resolved' and resolved_at < ? returning id",
    [new Date(now.getTime() - retentionDays * 86_400_000)],
  );
  return rows.length;
}
