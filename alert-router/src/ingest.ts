// Ingest: one Alertmanager delivery applied in one transaction (committed before the 200), one incident
// per fingerprint + startsAt so retries and HA pairs fold; refused payloads are stored raw with the reason.
import type { MikroORM } from '@mikro-orm/postgresql';
import type { RouterConfig } from './config.js';
import { q, type IncidentRow } from './db/sql.js';
import { selectPolicy } from './escalation/policy.js';
import { recordEvent, resolveNotifications } from './lifecycle.js';
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
      await q(
        em,
        'insert into webhook_deliveries (received_at, status, group_key, alerts, payload, bytes) values (?, ?, ?, ?, ?, ?)',
        [now, 'accepted', payload.groupKey, payload.alerts.length, raw, Buffer.byteLength(raw)],
      );
      const created = await q<{
        id: string;
        fingerprint: string;
        starts_at: Date | string;
        status: string;
        escalation_policy: string | null;
      }>(
        em,
        `insert into incidents (fingerprint, starts_at, alertname, severity, status, labels, annotations, summary, generator_url, receiver,
           escalation_policy, first_seen_at, last_seen_at, ends_at, resolved_at)
         select x.fingerprint, x.starts_at, x.alertname, x.severity, x.status, x.labels, x.annotations, x.summary, x.generator_url, ?,
                x.escalation_policy, ?::timestamptz, ?::timestamptz, x.ends_at, x.resolved_at
           from jsonb_to_recordset(?::jsonb) as x(fingerprint text, starts_at timestamptz, alertname text, severity text, status text,
                labels jsonb, annotations jsonb, summary text, generator_url text, escalation_policy text, ends_at timestamptz, resolved_at timestamptz)
          order by x.fingerprint, x.starts_at
         on conflict (fingerprint, starts_at) do nothing
         returning id, fingerprint, starts_at, status, escalation_policy`,
        [payload.receiver, now, now, JSON.stringify(rows)],
      );
      result.created = created.length;
      result.resolved = created.filter((c) => c.status === 'resolved').length;
      if (created.length) {
        await q(
          em,
          `insert into incident_events (incident_id, at, type, detail)
           select x.id, ?::timestamptz, x.type, x.detail from jsonb_to_recordset(?::jsonb) as x(id bigint, type text, detail jsonb)`,
          [
            now,
            JSON.stringify(
              created.map((c) =>
                c.status === 'firing'
                  ? { id: c.id, type: 'fired', detail: {} }
                  : { id: c.id, type: 'resolved', detail: { note: 'first seen already resolved' } },
              ),
            ),
          ],
        );
        const escalations = created.filter((c) => c.status === 'firing' && c.escalation_policy);
        if (escalations.length)
          await q(
            em,
            `insert into escalations (incident_id, policy, step, repeats, due_at, state)
             select x.id, x.policy, 0, 0, ?::timestamptz, 'active' from jsonb_to_recordset(?::jsonb) as x(id bigint, policy text)`,
            [now, JSON.stringify(escalations.map((c) => ({ id: c.id, policy: c.escalation_policy })))],
          );
      }
      const isNew = new Set(created.map(keyOf));
      const known = rows.filter((r) => !isNew.has(keyOf(r)));
      if (!known.length) return;
      // Known incidents: lock them (in id order), fold the duplicates, apply state changes.
      const current = await q<IncidentRow & { key: string }>(
        em,
        `select i.id, i.status, i.last_seen_at, x.key from incidents i
           join jsonb_to_recordset(?::jsonb) as x(key text, fingerprint text, starts_at timestamptz)
             on i.fingerprint = x.fingerprint and i.starts_at = x.starts_at
          order by i.id for update of i`,
        [
          JSON.stringify(
            known.map((k) => ({ key: keyOf(k), fingerprint: k.fingerprint, starts_at: k.starts_at })),
          ),
        ],
      );
      const byIncidentKey = new Map(current.map((c) => [c.key, c]));
      const seen: Array<{ id: string; annotations: Record<string, string> | null }> = [];
      const renotified: string[] = [];
      for (const alert of known) {
        const incident = byIncidentKey.get(keyOf(alert));
        if (!incident) continue;
        if (alert.status === 'firing') {
          seen.push({ id: incident.id, annotations: alert.annotations });
          // HA pairs and retries deliver the same group seconds apart: only a later repeat is an event.
          const quietFor = now.getTime() - new Date(incident.last_seen_at).getTime();
          if (incident.status === 'firing' && quietFor > 60_000) renotified.push(incident.id);
        } else if (incident.status === 'firing') {
          const endsAt = alert.ends_at ? new Date(alert.ends_at) : now;
          await q(
            em,
            "update incidents set status = 'resolved', last_seen_at = ?, ends_at = ?, resolved_at = ? where id = ?",
            [now, endsAt, endsAt, incident.id],
          );
          await recordEvent(em, incident.id, now, 'resolved', null, { endsAt: alert.ends_at });
          await resolveNotifications(em, incident.id, now);
          result.resolved += 1;
        } else {
          seen.push({ id: incident.id, annotations: null });
        }
      }
      if (seen.length)
        await q(
          em,
          `update incidents i set last_seen_at = ?::timestamptz, annotations = coalesce(x.annotations, i.annotations)
             from jsonb_to_recordset(?::jsonb) as x(id bigint, annotations jsonb) where i.id = x.id`,
          [now, JSON.stringify(seen)],
        );
      if (renotified.length)
        await q(
          em,
          `insert into incident_events (incident_id, at, type, detail) select x.id, ?::timestamptz, 'renotified', '{}'::jsonb
             from unnest(?::bigint[]) as x(id)`,
          [now, `{${renotified.join(',')}}`],
        );
    });
    return result;
  }
}
