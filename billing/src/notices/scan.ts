// The notice scan: one set-based statement that turns what happened in billing into notices, however often
// it runs. Events are read from the state billing already keeps (invoices, and the audit log's suspend,
// restore and overdue rows), within a lookback window; each becomes one row per channel keyed by
// (event, invoice or audit row, channel), and ON CONFLICT DO NOTHING makes a second scan add nothing.
// No hook in the billing cycle: the scan follows it (and staff actions, and Midtrans payments) wherever
// they come from.
import type { MikroORM } from '@mikro-orm/postgresql';
import { pgIds, q } from '../db/sql.js';
import { NOTICE_CHANNELS, type NoticeConfig } from './config.js';

export interface ScanResult {
  /** Notices queued (pending) and recorded as suppressed (opted out), by event. */
  queued: Record<string, number>;
  suppressed: Record<string, number>;
}

export const EVENTS_SQL = `
  select 'invoice_issued' as event, 'invoice:' || i.id as anchor, i.customer_id, i.subscription_id, i.id as invoice_id, null::bigint as audit_id
    from invoices i
   where i.issued_at > ?::timestamptz and i.issued_at <= ?::timestamptz and i.status in ('unpaid', 'overdue')
  union all
  -- reminders: only the nearest configured day that has come (a scan after a long pause sends one, not all),
  -- and only the days an invoice was issued before (a first invoice due in 3 days gets no 3-day reminder)
  select 'reminder', 'invoice:' || i.id || ':' || d.days || 'd', i.customer_id, i.subscription_id, i.id, null
    from invoices i cross join unnest(?::int[]) as d(days)
   where i.status = 'unpaid' and i.due_at > ?::timestamptz and i.due_at <= ?::timestamptz + make_interval(days => ?)
     and i.due_at - make_interval(days => d.days) <= ?::timestamptz
     and i.due_at - make_interval(days => d.days) > ?::timestamptz
     and i.issued_at < i.due_at - make_interval(days => d.days) -- not for an invoice issued inside the window
     and not exists (select 1 from unnest(?::int[]) as e(days)
                      where e.days < d.days and i.due_at - make_interval(days => e.days) <= ?::timestamptz)
  union all
  -- one primary-key lookup per audit row (the LIMIT keeps the planner from scanning every overdue
  -- invoice per row when its statistics are behind, as right after a cycle: 2 s for 1,000 rows)
  select 'overdue', 'invoice:' || i.id, i.customer_id, i.subscription_id, i.id, a.id
    from audit_log a
   cross join lateral (select * from invoices i
                        where i.id = (case when a.entity_id ~ '^[0-9]{1,18}$' then a.entity_id::bigint end) limit 1) i
   where a.entity = 'invoices' and a.action = 'overdue' and a.at > ?::timestamptz and a.at <= ?::timestamptz
     and i.status = 'overdue'
  union all
  select 'paid', 'invoice:' || i.id, i.customer_id, i.subscription_id, i.id, null
    from invoices i
   where i.paid_at > ?::timestamptz and i.paid_at <= ?::timestamptz and i.status = 'paid'
  union all
  -- a suspension (or restore) is an event of its own each time it happens: keyed by its audit row
  select case a.action when 'suspend' then 'suspended' else 'restored' end, 'audit:' || a.id, s.customer_id, s.id,
         case a.action when 'suspend' then (select min(o.id) from invoices o where o.subscription_id = s.id and o.status = 'overdue') end,
         a.id
    from audit_log a join subscriptions s on s.id = (case when a.entity_id ~ '^[0-9]{1,18}$' then a.entity_id::bigint end)
   where a.entity = 'subscriptions' and a.action in ('suspend', 'restore') and a.at > ?::timestamptz and a.at <= ?::timestamptz
     and s.status = case a.action when 'suspend' then 'suspended' else 'active' end`;

/** Queues the notices of every event in the lookback window that has none yet. */
export async function scanNotices(orm: MikroORM, c: NoticeConfig, now: Date): Promise<ScanResult> {
  const channels = NOTICE_CHANNELS.filter((ch) => c[ch] !== undefined);
  const result: ScanResult = { queued: {}, suppressed: {} };
  if (channels.length === 0) return result;
  const since = new Date(now.getTime() - c.lookback_hours * 3_600_000);
  const days = pgIds(c.reminder_days_before.length ? c.reminder_days_before : [0]);
  const maxDays = Math.max(0, ...c.reminder_days_before);
  const channelList = `{${channels.join(',')}}`;
  const rows = await q<{ event: string; status: string; n: string }>(
    orm.em.fork(),
    `with ev as (${EVENTS_SQL}
     ), target as (
       select ev.*, c.email, c.phone, coalesce(ns.language, ?) as language, coalesce(ns.opted_out, false) as opted_out,
              coalesce(ns.channels, ?::text[]) as chosen
         from ev join customers c on c.id = ev.customer_id left join notice_settings ns on ns.customer_id = c.id
     ), wanted as (
       select t.*, ch.channel, case ch.channel when 'email' then t.email else t.phone end as recipient
         from target t cross join unnest(?::text[]) as ch(channel)
        where ch.channel = any(t.chosen)
     ), ins as (
       insert into notices (dedupe_key, event, channel, customer_id, subscription_id, invoice_id, audit_id, language,
                            recipient, status, next_attempt_at, last_error, created_at)
       select event || ':' || anchor || ':' || channel, event, channel, customer_id, subscription_id, invoice_id, audit_id,
              language, recipient, case when opted_out then 'suppressed' else 'pending' end, ?,
              case when opted_out then 'customer opted out' end, ?
         from wanted where coalesce(recipient, '') <> ''
       on conflict (dedupe_key) do nothing
       returning event, status
     )
     select event, status, count(*) as n from ins group by event, status`,
    [
      since,
      now,
      days,
      now,
      now,
      maxDays,
      now,
      since,
      days,
      now,
      since,
      now,
      since,
      now,
      since,
      now,
      c.default_language,
      channelList,
      channelList,
      now,
      now,
    ],
  );
  for (const r of rows) {
    const into = r.status === 'pending' ? result.queued : result.suppressed;
    into[r.event] = (into[r.event] ?? 0) + Number(r.n);
  }
  return result;
}
