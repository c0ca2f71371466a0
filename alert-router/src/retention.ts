// Retention: resolved incidents older than `retention_days` are deleted (events and notifications
// cascade); firing incidents are kept whatever their age. The raw webhook deliveries (Alertmanager's
// payloads, accepted or refused) are not tied to an incident and go by their own age, on the same horizon.
import type { MikroORM } from '@mikro-orm/postgresql';
import { q } from './db/sql.js';

export interface Purged {
  incidents: number;
  webhookDeliveries: number;
}

export async function purgeResolved(orm: MikroORM, retentionDays: number, now: Date): Promise<Purged> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
  const em = orm.em.fork();
  const incidents = await q(
    em,
    "delete from incidents where status = 'resolved' and resolved_at < ? returning id",
    [cutoff],
  );
  const deliveries = await q(em, 'delete from webhook_deliveries where received_at < ? returning id', [
    cutoff,
  ]);
  return { incidents: incidents.length, webhookDeliveries: deliveries.length };
}
