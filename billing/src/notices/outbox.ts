// Billing's notices through service-kit's outbox (claim into a lease, send with the notice's stable key,
// mark sent / retry with backoff / dead letter). What is billing's own: the facts a message needs, read
// when the notice is claimed (so it says what is true then); notices that went stale before they went
// out (the invoice got paid, the subscription came back); the customer opting out meanwhile; quiet hours.
import { Outbox, type OutboxItem } from '@ispmon/service-kit';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { q } from '../db/sql.js';
import type { Send, Senders } from './channels.js';
import type { Language, NoticeConfig, NoticeEvent } from './config.js';
import { renderNotice, type NoticeText } from './messages.js';
import type { NoticeMetrics } from './metrics.js';
import { quietUntil } from './quiet.js';

export interface NoticeRow extends OutboxItem, Record<string, unknown> {
  event: NoticeEvent;
  generation: number;
  language: Language;
  recipient: string;
  subscription_id: string | null;
  customer_name: string;
  opted_out: boolean;
  chosen: string[] | null;
  invoice_number: string | null;
  invoice_due_idr: string | null;
  invoice_due_at: Date | string | null;
  invoice_status: string | null;
  subscription_status: string | null;
  plan_name: string | null;
  overdue_idr: string | null;
  dedupe_key: string;
}

export interface NoticeMessage {
  to: string;
  key: string;
  text: NoticeText;
}

/** The key receivers deduplicate by: stable across the retries of one notice, new for a staff resend. */
export const noticeKey = (id: string, generation: number): string =>
  `ispmon-notice-${id}${generation > 0 ? `-r${generation}` : ''}`;

/** Why a notice claimed now would say something no longer true. */
function stale(n: NoticeRow): string | undefined {
  const invoiceSettled = n.invoice_status === 'paid' || n.invoice_status === 'cancelled';
  if ((n.event === 'invoice_issued' || n.event === 'reminder' || n.event === 'overdue') && invoiceSettled)
    return `invoice ${n.invoice_number ?? ''} is ${n.invoice_status} now`;
  if (n.event === 'suspended' && n.subscription_status !== 'suspended')
    return `subscription is ${n.subscription_status ?? 'gone'} now`;
  if (n.event === 'restored' && n.subscription_status !== 'active')
    return `subscription is ${n.subscription_status ?? 'gone'} now`;
  return undefined;
}

export function noticeOutbox(o: {
  orm: MikroORM;
  config: NoticeConfig;
  senders: Senders;
  templates: Parameters<typeof renderNotice>[0];
  metrics: NoticeMetrics;
  logger: Logger;
  paymentLink: ((subscriptionId: string) => string) | undefined;
  random?: () => number;
}): Outbox<NoticeRow, NoticeMessage> {
  const c = o.config;
  return new Outbox<NoticeRow, NoticeMessage>({
    tables: { items: 'notices', attempts: 'notice_attempts', itemColumn: 'notice_id' },
    query: (sql, params) => q(o.orm.em.fork(), sql, params),
    logger: o.logger,
    noun: 'notice',
    ...(o.random ? { random: o.random } : {}),
    next: async (now) =>
      (
        await q<NoticeRow>(
          o.orm.em.fork(),
          `select n.id, n.channel, n.attempts, n.dead_after, n.generation, n.event, n.language, n.recipient, n.dedupe_key,
                  n.subscription_id, c.name as customer_name, coalesce(ns.opted_out, false) as opted_out, ns.channels as chosen,
                  i.number as invoice_number, (i.amount_idr - i.credit_idr)::text as invoice_due_idr, i.due_at as invoice_due_at,
                  i.status as invoice_status, s.status as subscription_status, p.name as plan_name,
                  (select sum(o.amount_idr - o.credit_idr)::text from invoices o
                    where o.subscription_id = n.subscription_id and o.status = 'overdue') as overdue_idr
             from notices n join customers c on c.id = n.customer_id
             left join notice_settings ns on ns.customer_id = n.customer_id
             left join invoices i on i.id = n.invoice_id
             left join subscriptions s on s.id = n.subscription_id
             left join plans p on p.id = s.plan_id
            where n.status = 'pending' and n.next_attempt_at <= ?
            order by n.next_attempt_at, n.id limit 1`,
          [now],
        )
      )[0],
    screen: (n, now) => {
      if (!o.senders.get(n.channel))
        return { settle: 'dead', error: `channel ${n.channel} is not configured`, outcome: 'dead' };
      if (n.opted_out) return { settle: 'suppressed', error: 'customer opted out', outcome: 'suppressed' };
      if (n.chosen && !n.chosen.includes(n.channel))
        return { settle: 'suppressed', error: 'channel not chosen by the customer', outcome: 'suppressed' };
      const why = stale(n);
      if (why) return { settle: 'superseded', error: why, outcome: 'superseded' };
      const until = quietUntil(now, c.quiet_hours && { ...c.quiet_hours, time_zone: c.time_zone });
      if (until) return { deferUntil: until, outcome: 'quiet' };
      return undefined;
    },
    message: (n) => {
      const days = /:(\d+)d:/.exec(n.dedupe_key)?.[1];
      return {
        to: n.recipient,
        key: noticeKey(n.id, n.generation),
        text: renderNotice(o.templates, {
          event: n.event,
          language: n.language,
          provider: c.provider_name,
          customer: n.customer_name,
          plan: n.plan_name,
          invoice:
            n.invoice_number && n.invoice_due_idr !== null && n.invoice_due_at !== null
              ? {
                  number: n.invoice_number,
                  dueIdr: BigInt(n.invoice_due_idr),
                  dueAt: new Date(n.invoice_due_at),
                }
              : null,
          days: n.event === 'reminder' && days ? Number(days) : null,
          overdueIdr: n.overdue_idr === null ? null : BigInt(n.overdue_idr),
          paymentLink:
            o.paymentLink &&
            n.subscription_id &&
            ['invoice_issued', 'reminder', 'overdue', 'suspended'].includes(n.event)
              ? o.paymentLink(String(n.subscription_id))
              : null,
          timeZone: c.time_zone,
        }),
      };
    },
    deliver: (n, m, signal) => (o.senders.get(n.channel) as Send)(m, signal),
    timeoutMs: () => c.delivery_timeout_seconds * 1000,
    maxAttempts: () => c.max_attempts,
    record: (n, outcome) => {
      const labels = { channel: n.channel, event: n.event };
      if (outcome === 'sent') o.metrics.sent.inc(labels);
      else if (outcome === 'failed') o.metrics.failed.inc(labels);
      else if (outcome === 'dead') o.metrics.dead.inc(labels);
    },
    logFields: (n) => ({ notice: n.id, notice_event: n.event }),
  });
}
