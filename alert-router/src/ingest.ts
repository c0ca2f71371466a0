// Ingest: one Alertmanager delivery applied in one transaction (committed before the 200), one incident
// per fingerprint + startsAt so retries and HA pairs fold; refused payloads are stored raw with the reason.
import type { MikroORM } from '@mikro-orm/postgresql';
import type { RouterConfig } from './config.js';
import { q } from './db/sql.js';
import { selectPolicy } from './escalation/policy.js';
import { resolveNotifications } from './lifecycle.js';
import { endsAtOf, type WebhookPayload } from './payload.js';

export interface IngestResult {
  incidents: number;
  created: number;
  resolved: number;
}

/** A refused body is kept up to this many characters: enough to see what was sent, bounded in size. */
export const REJECTED_KEEP_CHARS = 1_000_000;

/** PostgreSQL `text` cannot hold NUL; escape it so a refused body is stored rather than lost. */
function storable(raw: string): string {
  return raw.slice(0, REJECTED_KEEP_CHARS).replaceAll('\u0000', '\\u0000');
}

/** One incident per fingerprint + startsAt (millisecond ISO text on both sides of the comparison). */
function keyOf(a: { fingerprint: string; starts_at: Date | string }): string {
  return `${a.fingerprint} ${new Date(a.starts_at).toISOString()}`;
}

export class Ingest {
  constructor(
    private readonly orm: MikroORM,
    private readonly config: () => RouterConfig,
  ) {}

  /** Stores a payload that failed validation, with the reason, so nothing is lost silently. */
  async recordRejected(raw: string, bytes: number, reason: string, now: Date): Promise<void> {
    await q(
      this.orm.em.fork(),
      'insert into webhook_deliveries (received_at, status, reason, payload, bytes) values (?, ?, ?, ?, ?)',
      [now, 'rejected', reason, storable(raw), bytes],
    );
  }

  /**
   * Applies one Alertmanager delivery in one transaction, set-based (a group of 10,000 alerts is a few
   * statements, not 20,000 round trips). Throws (→ 5xx) if it cannot commit.
   */
  async ingest(payload: WebhookPayload, raw: string, now: Date): Promise<IngestResult> {
    const result: IngestResult = { incidents: payload.alerts.length, created: 0, resolved: 0 };
    // One row per incident key; sorted so concurrent deliveries of one group (HA pair) lock in one order.
    const byKey = new Map<string, WebhookPayload['alerts'][number]>();
    for (const a of payload.alerts)
      byKey.set(keyOf({ fingerprint: a.fingerprint, starts_at: a.startsAt }), a);
    const rows = [...byKey.values()]
      .map((alert) => {
        const endsAt = endsAtOf(alert);
        return {
          fingerprint: alert.fingerprint,
          starts_at: new Date(alert.startsAt).toISOString(),
          alertname: alert.labels.alertname,
          severity: alert.labels.severity ?? 'none',
          status: alert.status,
          labels: alert.labels,
          annotations: alert.annotations,
          summary: alert.annotations.summary ?? '',
          generator_url: alert.generatorURL,
          escalation_policy:
            alert.status === 'firing'
              ? (selectPolicy(this.config().policies, alert.labels)?.name ?? null)
              : null,
          ends_at: endsAt?.toISOString() ?? null,
          resolved_at: alert.status === 'resolved' ? (endsAt ?? now).toISOString() : null,
        };
      })
      .sort((x, y) =>
        x.fingerprint < y.fingerprint
          ? -1
          : x.fingerprint > y.fingerprint
            ? 1
            : x.starts_at.localeCompare(y.starts_at),
      );
    await this.orm.em.fork().transactional(async (em) => {
      // One statement stores the delivery, the new incidents, their first events and escalation timers
      // (a round trip each would double the work per webhook); foreign keys are checked at its end.
      const created = await q<{
        id: string;
        fingerprint: string;
        starts_at: Date | string;
        status: string;
      }>(
        em,
        `with delivery as (
           insert into webhook_deliveries (received_at, status, group_key, alerts, payload, bytes)
           values (?::timestamptz, 'accepted', ?, ?, ?, ?)
         ), created as (
           insert into incidents (fingerprint, starts_at, alertname, severity, status, labels, annotations, summary, generator_url, receiver,
             escalation_policy, first_seen_at, last_seen_at, ends_at, resolved_at)
           select x.fingerprint, x.starts_at, x.alertname, x.severity, x.status, x.labels, x.annotations, x.summary, x.generator_url, ?,
                  x.escalation_policy, ?::timestamptz, ?::timestamptz, x.ends_at, x.resolved_at
             from jsonb_to_recordset(?::jsonb) as x(fingerprint text, starts_at timestamptz, alertname text, severity text, status text,
                  labels jsonb, annotations jsonb, summary text, generator_url text, escalation_policy text, ends_at timestamptz, resolved_at timestamptz)
            order by x.fingerprint, x.starts_at
           on conflict (fingerprint, starts_at) do nothing
           returning id, fingerprint, starts_at, status, escalation_policy
         ), events as (
           insert into incident_events (incident_id, at, type, detail)
           select id, ?::timestamptz, case when status = 'firing' then 'fired' else 'resolved' end,
                  case when status = 'firing' then '{}'::jsonb else '{"note": "first seen already resolved"}'::jsonb end
             from created
         ), timers as (
           insert into escalations (incident_id, policy, step, repeats, due_at, state)
           select id, escalation_policy, 0, 0, ?::timestamptz, 'active' from created
            where status = 'firing' and escalation_policy is not null
         )
         select id, fingerprint, starts_at, status from created`,
        [
          now,
          payload.groupKey,
          payload.alerts.length,
          raw,
          Buffer.byteLength(raw),
          payload.receiver,
          now,
          now,
          JSON.stringify(rows),
          now,
          now,
        ],
      );
      result.created = created.length;
      result.resolved = created.filter((c) => c.status === 'resolved').length;
      const isNew = new Set(created.map(keyOf));
      const known = rows.filter((r) => !isNew.has(keyOf(r)));
      if (!known.length) return;
      // Known incidents, in one statement: lock them (in id order, so an HA pair's twin deliveries
      // queue), mark them seen (annotations of a firing alert replace the old ones), record a repeat
      // after a quiet minute as 'renotified' (HA pairs and retries deliver the same group seconds
      // apart), and return the firing incidents this delivery resolves, still locked.
      const resolving = await q<{ id: string; ends_at: string | null }>(
        em,
        `with cur as (
           select i.id, i.status, i.last_seen_at, x.status as alert_status, x.annotations, x.ends_at
             from incidents i
             join jsonb_to_recordset(?::jsonb) as x(fingerprint text, starts_at timestamptz, status text, annotations jsonb, ends_at text)
               on i.fingerprint = x.fingerprint and i.starts_at = x.starts_at
            order by i.id for update of i
         ), seen as (
           update incidents i set last_seen_at = ?::timestamptz,
                  annotations = case when cur.alert_status = 'firing' then cur.annotations else i.annotations end
             from cur where i.id = cur.id and not (cur.alert_status = 'resolved' and cur.status = 'firing')
         ), renotified as (
           insert into incident_events (incident_id, at, type, detail)
           select id, ?::timestamptz, 'renotified', '{}'::jsonb from cur
            where alert_status = 'firing' and status = 'firing' and last_seen_at < ?::timestamptz - interval '60 seconds'
         )
         select id, ends_at from cur where alert_status = 'resolved' and status = 'firing' order by id`,
        [
          JSON.stringify(
            known.map((k) => ({
              fingerprint: k.fingerprint,
              starts_at: k.starts_at,
              status: k.status,
              annotations: k.annotations,
              ends_at: k.ends_at,
            })),
          ),
          now,
          now,
          now,
        ],
      );
      if (!resolving.length) return;
      // Resolved by Alertmanager: the incident, its event (with Alertmanager's endsAt as sent), then the
      // notifications (lifecycle.ts), all set-based.
      await q(
        em,
        `with x as (
           select * from jsonb_to_recordset(?::jsonb) as x(id bigint, ends_at text)
         ), up as (
           update incidents i set status = 'resolved', last_seen_at = ?::timestamptz,
                  ends_at = coalesce(x.ends_at::timestamptz, ?::timestamptz), resolved_at = coalesce(x.ends_at::timestamptz, ?::timestamptz)
             from x where i.id = x.id
         )
         insert into incident_events (incident_id, at, type, actor, detail)
         select id, ?::timestamptz, 'resolved', null, jsonb_build_object('endsAt', ends_at) from x`,
        [JSON.stringify(resolving), now, now, now, now],
      );
      await resolveNotifications(
        em,
        resolving.map((r) => r.id),
        now,
      );
      result.resolved += resolving.length;
    });
    return result;
  }
}
