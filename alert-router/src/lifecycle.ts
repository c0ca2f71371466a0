// How an incident ends: acknowledged (escalation stops) or resolved (escalation stops, firing notices
// not yet delivered are superseded, and every channel that was to hear of the incident gets one
// resolution notice). Every change is written to the incident's event log.
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { NotFoundError, q, type IncidentRow } from './db/sql.js';

export async function recordEvent(
  em: EntityManager,
  incidentId: string,
  at: Date,
  type: string,
  actor: string | null,
  detail: Record<string, unknown>,
): Promise<void> {
  await q(
    em,
    'insert into incident_events (incident_id, at, type, actor, detail) values (?, ?, ?, ?, ?::jsonb)',
    [incidentId, at, type, actor, JSON.stringify(detail)],
  );
}

/**
 * Resolution semantics, by the state of each firing notice (README, "Resolution"):
 * pending or failing → superseded (a stale "firing" never goes out); being sent right now → marked by
 * the sender as it ends (sent or failed); sent or dead → left as is. Then each channel that had a
 * firing notice in any state gets one resolution notice, which says when it fired and whether the
 * firing notice reached that channel.
 */
export async function resolveNotifications(
  em: EntityManager,
  incidentIds: string | readonly string[],
  now: Date,
): Promise<void> {
  // Set-based: a webhook resolving a whole group is three statements, not three per incident.
  const ids = `{${(typeof incidentIds === 'string' ? [incidentIds] : incidentIds).join(',')}}`;
  await q(
    em,
    "update escalations set state = 'stopped' where incident_id = any(?::bigint[]) and state = 'active'",
    [ids],
  );
  await q(
    em,
    "update notifications set status = 'superseded', last_error = 'incident resolved before delivery' where incident_id = any(?::bigint[]) and kind = 'firing' and status = 'pending'",
    [ids],
  );
  await q(
    em,
    `insert into notifications (incident_id, channel, kind, dedupe_key, status, next_attempt_at, created_at)
     select distinct incident_id, channel, 'resolved', incident_id::text || ':resolved:' || channel, 'pending', ?::timestamptz, ?::timestamptz
       from notifications where incident_id = any(?::bigint[]) and kind = 'firing'
     on conflict (dedupe_key) do nothing`,
    [now, now, ids],
  );
}

export class IncidentActions {
  constructor(private readonly orm: MikroORM) {}

  async acknowledge(
    id: string,
    who: string,
    note: string | undefined,
    now: Date,
    silenceId?: string,
  ): Promise<IncidentRow> {
    return this.orm.em.fork().transactional(async (em) => {
      const [i] = await q<IncidentRow>(em, 'select * from incidents where id = ? for update', [id]);
      if (!i) throw new NotFoundError(`incident ${id} not found`);
      if (!i.acknowledged_at) {
        await q(
          em,
          'update incidents set acknowledged_at = ?, acknowledged_by = ?, ack_note = ?, silence_id = ? where id = ?',
          [now, who, note ?? null, silenceId ?? null, id],
        );
        await recordEvent(em, id, now, 'acknowledged', who, {
          note: note ?? null,
          silenceId: silenceId ?? null,
        });
        await q(em, "update escalations set state = 'stopped' where incident_id = ? and state = 'active'", [
          id,
        ]);
      }
      const [after] = await q<IncidentRow>(em, 'select * from incidents where id = ?', [id]);
      return after as IncidentRow;
    });
  }

  async resolveManually(id: string, who: string, note: string, now: Date): Promise<IncidentRow> {
    if (!/^\d+$/.test(id)) throw new NotFoundError(`incident ${id} not found`);
    return this.orm.em.fork().transactional(async (em) => {
      const [i] = await q<IncidentRow>(em, 'select * from incidents where id = ? for update', [id]);
      if (!i) throw new NotFoundError(`incident ${id} not found`);
      if (i.status === 'firing') {
        await q(
          em,
          "update incidents set status = 'resolved', resolved_at = ?, resolved_by = ?, resolution_note = ? where id = ?",
          [now, who, note, id],
        );
        await recordEvent(em, id, now, 'manually_resolved', who, { note });
        await resolveNotifications(em, id, now);
      }
      const [after] = await q<IncidentRow>(em, 'select * from incidents where id = ?', [id]);
      return after as IncidentRow;
    });
  }
}
