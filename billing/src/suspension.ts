// The suspend transition, defined once: active → suspended with a reason, the router told to follow
// (isolation profile or disabled secret, session kicked), and an audit row, all in one statement.
// Staff suspend one subscription with their reason; the billing cycle suspends every active subscription
// with an overdue invoice whose customer is not suspension_exempt, naming the invoice.
import { q, type Em } from './db/sql.js';
import { PENDING_SYNC } from './sync.js';

export type SuspensionTarget = { kind: 'one'; subscriptionId: string; reason: string } | { kind: 'overdue' };

export interface Suspended {
  count: number;
  /** Up to 100 suspended subscription ids. */
  sample: string[];
}

// Each target selects (id, reason) of active subscriptions and locks them for the update.
const TARGETS: Record<SuspensionTarget['kind'], string> = {
  one: `select s.id, ?::text as reason from subscriptions s where s.id = ? and s.status = 'active' for update of s`,
  // One pass over the overdue invoices (grouped), not a lookup per subscription: 1,000,000 in one cycle.
  overdue: `select s.id, 'overdue invoice ' || o.first_number as reason
              from (select subscription_id, min(number) as first_number from invoices
                     where status = 'overdue' and subscription_id is not null group by subscription_id) o
              join subscriptions s on s.id = o.subscription_id
              join customers c on c.id = s.customer_id
             where s.status = 'active' and not c.suspension_exempt
             for update of s`,
};

/** Suspends the target's active subscriptions in the caller's transaction. */
export async function suspendSubscriptions(
  em: Em,
  target: SuspensionTarget,
  actor: string,
  now: Date,
): Promise<Suspended> {
  const targetParams = target.kind === 'one' ? [target.reason, target.subscriptionId] : [];
  const rows = await q<{ n: string; sample: string[] | null }>(
    em,
    `with target as (${TARGETS[target.kind]}), up as (
       update subscriptions s set status = 'suspended', suspended_reason = t.reason, ${PENDING_SYNC},
              kick_pending = true, next_sync_at = ?, updated_at = ?
         from target t where s.id = t.id
       returning s.id, t.reason
     ), aud as (
       insert into audit_log (at, actor, entity, entity_id, action, from_state, to_state, reason, detail)
       select ?, ?, 'subscriptions', id::text, 'suspend', 'active', 'suspended', reason, '{}'::jsonb from up
     )
     select count(*) as n, (array_agg(id::text order by id))[1:100] as sample from up`,
    [...targetParams, now, now, now, actor],
  );
  return { count: Number(rows[0]?.n ?? 0), sample: rows[0]?.sample ?? [] };
}
