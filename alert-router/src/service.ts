// The alert router's behaviour over PostgreSQL: ingest webhooks (commit before answering), escalate
// (timers in the database, FOR UPDATE SKIP LOCKED so replicas never double-send), deliver through an
// outbox with retries, acknowledge, resolve, report. Time comes in as an argument (tests inject it).
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { RouterConfig } from './config.js';
import { escalate, selectPolicy } from './escalation/policy.js';
import { DeliveryError, makeDeliver, type Deliver } from './notifiers/channels.js';
import type { NotificationMessage } from './notifiers/message.js';
import { endsAtOf, type WebhookPayload } from './payload.js';
import type { RouterMetrics } from './metrics.js';

type Row = Record<string, unknown>;

/** SQL through the ORM's connection (MikroORM uses `?` placeholders). */
async function q<T extends Row = Row>(em: EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await em.execute(sql, params, 'all')) as T[];
}

export interface IncidentRow extends Row {
  id: string;
  fingerprint: string;
  starts_at: Date;
  alertname: string;
  severity: string;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  summary: string;
  escalation_policy: string | null;
  resolved_at: Date | null;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
}

export interface IngestResult {
  incidents: number;
  created: number;
  resolved: number;
}

export class NotFoundError extends Error {}

export class AlertRouterService {
  private readonly deliverers = new Map<string, Deliver>();
  /** Per-channel token buckets: sends allowed this minute (process-local; a limit per replica). */
  private readonly buckets = new Map<string, { windowStart: number; used: number }>();

  constructor(
    private readonly orm: MikroORM,
    private config: RouterConfig,
    private readonly logger: Logger,
    private readonly metrics: RouterMetrics,
  ) {}

  setConfig(config: RouterConfig): void {
    this.config = config;
    this.deliverers.clear();
  }

  private deliverer(channel: string): Deliver | undefined {
    const c = this.config.channels.get(channel);
    if (!c) return undefined;
    let d = this.deliverers.get(channel);
    if (!d) {
      d = makeDeliver(channel, c);
      this.deliverers.set(channel, d);
    }
    return d;
  }

  async ping(): Promise<void> {
    await q(this.orm.em.fork(), 'select 1');
  }

  /** Stores a payload that failed validation, with the reason, so nothing is lost silently. */
  async recordRejected(raw: string, reason: string, now: Date): Promise<void> {
    await q(
      this.orm.em.fork(),
      'insert into webhook_deliveries (received_at, status, reason, payload) values (?, ?, ?, ?)',
      [now, 'rejected', reason, raw.slice(0, 1_000_000)],
    );
  }

  /** Applies one Alertmanager delivery in one transaction. Throws (→ 5xx) if it cannot commit. */
  async ingest(payload: WebhookPayload, raw: string, now: Date): Promise<IngestResult> {
    const result: IngestResult = { incidents: 0, created: 0, resolved: 0 };
    await this.orm.em.fork().transactional(async (em) => {
      await q(
        em,
        'insert into webhook_deliveries (received_at, status, group_key, alerts, payload) values (?, ?, ?, ?, ?)',
        [now, 'accepted', payload.groupKey, payload.alerts.length, raw],
      );
      for (const alert of payload.alerts) {
        const startsAt = new Date(alert.startsAt);
        const endsAt = endsAtOf(alert);
        const severity = alert.labels.severity ?? 'none';
        const policy =
          alert.status === 'firing' ? selectPolicy(this.config.policies, alert.labels) : undefined;
        const inserted = await q<IncidentRow>(
          em,
          `insert into incidents (fingerprint, starts_at, alertname, severity, status, labels, annotations, summary, generator_url, receiver,
             escalation_policy, first_seen_at, last_seen_at, ends_at, resolved_at)
           values (?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, ?, ?, ?, ?, ?, ?)
           on conflict (fingerprint, starts_at) do nothing
           returning *`,
          [
            alert.fingerprint,
            startsAt,
            alert.labels.alertname,
            severity,
            alert.status,
            JSON.stringify(alert.labels),
            JSON.stringify(alert.annotations),
            alert.annotations.summary ?? '',
            alert.generatorURL,
            payload.receiver,
            policy?.name ?? null,
            now,
            now,
            endsAt ?? null,
            alert.status === 'resolved' ? (endsAt ?? now) : null,
          ],
        );
        result.incidents += 1;
        const created = inserted[0];
        if (created) {
          result.created += 1;
          await this.event(
            em,
            created.id,
            now,
            alert.status === 'firing' ? 'fired' : 'resolved',
            null,
            alert.status === 'resolved' ? { note: 'first seen already resolved' } : {},
          );
          if (alert.status === 'firing' && policy) {
            await q(
              em,
              'insert into escalations (incident_id, policy, step, repeats, due_at, state) values (?, ?, 0, 0, ?, ?)',
              [created.id, policy.name, now, 'active'],
            );
          }
          if (alert.status === 'resolved') result.resolved += 1;
          continue;
        }
        // Known incident: lock it, fold the duplicate, apply a state change if there is one.
        const [current] = await q<IncidentRow>(
          em,
          'select * from incidents where fingerprint = ? and starts_at = ? for update',
          [alert.fingerprint, startsAt],
        );
        if (!current) continue;
        if (alert.status === 'firing') {
          const quietFor = now.getTime() - new Date(current.last_seen_at as Date).getTime();
          await q(em, 'update incidents set last_seen_at = ?, annotations = ?::jsonb where id = ?', [
            now,
            JSON.stringify(alert.annotations),
            current.id,
          ]);
          // HA pairs and retries deliver the same group seconds apart: only a later repeat is an event.
          if (current.status === 'firing' && quietFor > 60_000)
            await this.event(em, current.id, now, 'renotified', null, {});
        } else if (current.status === 'firing') {
          await q(
            em,
            "update incidents set status = 'resolved', last_seen_at = ?, ends_at = ?, resolved_at = ? where id = ?",
            [now, endsAt ?? now, endsAt ?? now, current.id],
          );
          await this.event(em, current.id, now, 'resolved', null, { endsAt: endsAt?.toISOString() ?? null });
          await this.finishIncident(em, current.id, 'resolved', now);
          result.resolved += 1;
        } else {
          await q(em, 'update incidents set last_seen_at = ? where id = ?', [now, current.id]);
        }
      }
    });
    return result;
  }

  private async event(
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

  /** Stops the escalation and tells everyone who was notified (resolution or acknowledgement notice). */
  private async finishIncident(
    em: EntityManager,
    incidentId: string,
    kind: 'resolved' | 'acknowledged',
    now: Date,
  ): Promise<void> {
    await q(em, "update escalations set state = 'stopped' where incident_id = ? and state = 'active'", [
      incidentId,
    ]);
    if (kind !== 'resolved') return;
    const notified = await q<{ channel: string }>(
      em,
      "select distinct channel from notifications where incident_id = ? and kind = 'firing' and status = 'sent'",
      [incidentId],
    );
    for (const { channel } of notified) {
      await q(
        em,
        "insert into notifications (incident_id, channel, kind, dedupe_key, status, next_attempt_at, created_at) values (?, ?, 'resolved', ?, 'pending', ?, ?) on conflict (dedupe_key) do nothing",
        [incidentId, channel, `${incidentId}:resolved:${channel}`, now, now],
      );
    }
  }

  /** Fires due escalation steps. Safe on many replicas: each timer row is taken by exactly one. */
  async tickEscalations(now: Date, batch = 100): Promise<number> {
    return this.orm.em.fork().transactional(async (em) => {
      const due = await q<{
        incident_id: string;
        policy: string;
        step: number;
        repeats: number;
        due_at: Date;
      }>(
        em,
        "select incident_id, policy, step, repeats, due_at from escalations where state = 'active' and due_at <= ? order by due_at limit ? for update skip locked",
        [now, batch],
      );
      for (const timer of due) {
        const policy = this.config.policies.find((p) => p.name === timer.policy);
        if (!policy) {
          await q(em, "update escalations set state = 'stopped' where incident_id = ?", [timer.incident_id]);
          continue;
        }
        const action = escalate(policy, { step: timer.step, repeats: timer.repeats }, now);
        this.metrics.escalationLag.observe(
          Math.max(0, now.getTime() - new Date(timer.due_at).getTime()) / 1000,
        );
        for (const channel of action.notify) {
          await q(
            em,
            "insert into notifications (incident_id, channel, kind, dedupe_key, status, next_attempt_at, created_at) values (?, ?, 'firing', ?, 'pending', ?, ?) on conflict (dedupe_key) do nothing",
            [timer.incident_id, channel, `${timer.incident_id}:${action.dedupe}:${channel}`, now, now],
          );
        }
        await this.event(
          em,
          timer.incident_id,
          now,
          timer.step === 0 && timer.repeats === 0 ? 'notified' : 'escalated',
          null,
          { policy: policy.name, step: timer.step, repeat: timer.repeats, channels: action.notify },
        );
        if (action.next) {
          await q(em, 'update escalations set step = ?, repeats = ?, due_at = ? where incident_id = ?', [
            action.next.state.step,
            action.next.state.repeats,
            action.next.dueAt,
            timer.incident_id,
          ]);
        } else {
          await q(em, "update escalations set state = 'stopped' where incident_id = ?", [timer.incident_id]);
        }
      }
      return due.length;
    });
  }

  private allowed(channel: string, nowMs: number): boolean {
    const limit = this.config.channels.get(channel)?.rate_limit_per_minute;
    if (!limit) return true;
    const b = this.buckets.get(channel) ?? { windowStart: nowMs, used: 0 };
    if (nowMs - b.windowStart >= 60_000) {
      b.windowStart = nowMs;
      b.used = 0;
    }
    if (b.used >= limit) {
      this.buckets.set(channel, b);
      return false;
    }
    b.used += 1;
    this.buckets.set(channel, b);
    return true;
  }

  /** Delivers due notifications; failures back off exponentially with jitter, then dead-letter. */
  async tickNotifications(now: Date, batch = 20, random: () => number = Math.random): Promise<number> {
    return this.orm.em.fork().transactional(async (em) => {
      const due = await q<
        Row & {
          id: string;
          incident_id: string;
          channel: string;
          kind: 'firing' | 'resolved' | 'acknowledged';
          attempts: number;
        }
      >(
        em,
        "select n.id, n.incident_id, n.channel, n.kind, n.attempts from notifications n where n.status = 'pending' and n.next_attempt_at <= ? order by n.next_attempt_at limit ? for update skip locked",
        [now, batch],
      );
      for (const n of due) {
        const channel = this.config.channels.get(n.channel);
        const deliver = this.deliverer(n.channel);
        if (!channel || !deliver) {
          await q(em, "update notifications set status = 'dead', last_error = ? where id = ?", [
            `channel ${n.channel} is not configured`,
            n.id,
          ]);
          this.metrics.notifications.inc({ channel: n.channel, outcome: 'dead' });
          continue;
        }
        if (!this.allowed(n.channel, now.getTime())) {
          await q(em, 'update notifications set next_attempt_at = ? where id = ?', [
            new Date(now.getTime() + 1_000),
            n.id,
          ]);
          this.metrics.notifications.inc({ channel: n.channel, outcome: 'rate_limited' });
          continue;
        }
        const [incident] = await q<IncidentRow>(em, 'select * from incidents where id = ?', [n.incident_id]);
        if (!incident) continue;
        const started = Date.now();
        let error: DeliveryError | undefined;
        try {
          await deliver(this.message(incident, n.kind));
        } catch (err) {
          error = err instanceof DeliveryError ? err : new DeliveryError((err as Error).message);
        }
        const attempts = n.attempts + 1;
        await q(
          em,
          'insert into notification_attempts (notification_id, at, ok, error, duration_ms) values (?, ?, ?, ?, ?)',
          [n.id, now, !error, error?.message ?? null, Date.now() - started],
        );
        if (!error) {
          await q(
            em,
            "update notifications set status = 'sent', attempts = ?, sent_at = ?, last_error = null where id = ?",
            [attempts, now, n.id],
          );
          this.metrics.notifications.inc({ channel: n.channel, outcome: 'sent' });
          continue;
        }
        if (error.permanent || attempts >= channel.max_attempts) {
          await q(em, "update notifications set status = 'dead', attempts = ?, last_error = ? where id = ?", [
            attempts,
            error.message,
            n.id,
          ]);
          this.metrics.notifications.inc({ channel: n.channel, outcome: 'dead' });
          this.logger.error(
            {
              event: 'notification_dead',
              notification: n.id,
              incident: n.incident_id,
              channel: n.channel,
              error: error.message,
            },
            'notification dead-lettered',
          );
          continue;
        }
        const backoff =
          error.retryAfterMs ?? Math.min(600_000, 1_000 * 2 ** (attempts - 1)) * (0.5 + random());
        await q(
          em,
          'update notifications set attempts = ?, last_error = ?, next_attempt_at = ? where id = ?',
          [attempts, error.message, new Date(now.getTime() + backoff), n.id],
        );
        this.metrics.notifications.inc({ channel: n.channel, outcome: 'failed' });
      }
      return due.length;
    });
  }

  message(i: IncidentRow, kind: 'firing' | 'resolved' | 'acknowledged'): NotificationMessage {
    const base = this.config.publicUrl;
    return {
      incidentId: i.id,
      kind,
      alertname: i.alertname,
      severity: i.severity,
      summary: i.annotations.summary ?? i.summary ?? '',
      description: i.annotations.description ?? '',
      labels: i.labels,
      startsAt: new Date(i.starts_at),
      resolvedAt: i.resolved_at ? new Date(i.resolved_at) : null,
      ...(i.annotations.runbook_url ? { runbookUrl: i.annotations.runbook_url } : {}),
      ...(i.annotations.dashboard ? { dashboardUrl: i.annotations.dashboard } : {}),
      incidentUrl: `${base}/api/v1/incidents/${i.id}`,
      ackUrl: `${base}/api/v1/incidents/${i.id}/ack`,
    };
  }

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
        await this.event(em, id, now, 'acknowledged', who, {
          note: note ?? null,
          silenceId: silenceId ?? null,
        });
        await this.finishIncident(em, id, 'acknowledged', now);
      }
      const [after] = await q<IncidentRow>(em, 'select * from incidents where id = ?', [id]);
      return after as IncidentRow;
    });
  }

  async resolveManually(id: string, who: string, note: string, now: Date): Promise<IncidentRow> {
    return this.orm.em.fork().transactional(async (em) => {
      const [i] = await q<IncidentRow>(em, 'select * from incidents where id = ? for update', [id]);
      if (!i) throw new NotFoundError(`incident ${id} not found`);
      if (i.status === 'firing') {
        await q(
          em,
          "update incidents set status = 'resolved', resolved_at = ?, resolved_by = ?, resolution_note = ? where id = ?",
          [now, who, note, id],
        );
        await this.event(em, id, now, 'manually_resolved', who, { note });
        await this.finishIncident(em, id, 'resolved', now);
      }
      const [after] = await q<IncidentRow>(em, 'select * from incidents where id = ?', [id]);
      return after as IncidentRow;
    });
  }

  async get(id: string): Promise<{ incident: IncidentRow; events: Row[]; notifications: Row[] }> {
    const em = this.orm.em.fork();
    if (!/^\d+$/.test(id)) throw new NotFoundError(`incident ${id} not found`);
    const [incident] = await q<IncidentRow>(em, 'select * from incidents where id = ?', [id]);
    if (!incident) throw new NotFoundError(`incident ${id} not found`);
    const events = await q(
      em,
      'select at, type, actor, detail from incident_events where incident_id = ? order by at, id',
      [id],
    );
    const notifications = await q(
      em,
      'select id, channel, kind, status, attempts, last_error, sent_at from notifications where incident_id = ? order by id',
      [id],
    );
    return { incident, events, notifications };
  }

  async list(filter: {
    status?: string;
    severity?: string;
    labels?: Record<string, string>;
    since?: Date;
    until?: Date;
    limit: number;
    offset: number;
  }): Promise<{ items: IncidentRow[]; total: number; summary: Record<string, number> }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value?: unknown): void => {
      where.push(sql);
      if (value !== undefined) params.push(value);
    };
    if (filter.status === 'acknowledged') add("status = 'firing' and acknowledged_at is not null");
    else if (filter.status) add('status = ?', filter.status);
    if (filter.severity) add('severity = ?', filter.severity);
    if (filter.labels && Object.keys(filter.labels).length)
      add('labels @> ?::jsonb', JSON.stringify(filter.labels));
    if (filter.since) add('starts_at >= ?', filter.since);
    if (filter.until) add('starts_at < ?', filter.until);
    const clause = where.length ? `where ${where.join(' and ')}` : '';
    const em = this.orm.em.fork();
    const items = await q<IncidentRow>(
      em,
      `select * from incidents ${clause} order by starts_at desc, id desc limit ? offset ?`,
      [...params, filter.limit, filter.offset],
    );
    const [counts] = await q<Record<string, string>>(
      em,
      `select count(*) as total,
              count(*) filter (where status = 'firing') as firing,
              count(*) filter (where status = 'resolved') as resolved,
              count(*) filter (where status = 'firing' and acknowledged_at is not null) as acknowledged,
              count(*) filter (where severity = 'critical') as critical,
              count(*) filter (where severity = 'warning') as warning
         from incidents ${clause}`,
      params,
    );
    const summary = Object.fromEntries(Object.entries(counts ?? {}).map(([k, v]) => [k, Number(v)]));
    const { total = 0, ...rest } = summary;
    return { items, total, summary: rest };
  }

  async stats(since: Date, until: Date): Promise<Row> {
    const [row] = await q(
      this.orm.em.fork(),
      `select coalesce(sum(n), 0)::int as incidents,
              coalesce(jsonb_object_agg(severity, n) filter (where severity is not null), '{}') as by_severity,
              (select avg(extract(epoch from acknowledged_at - starts_at)) from incidents where starts_at >= ? and starts_at < ? and acknowledged_at is not null) as mtta_seconds,
              (select avg(extract(epoch from resolved_at - starts_at)) from incidents where starts_at >= ? and starts_at < ? and resolved_at is not null) as mttr_seconds
         from (select severity, count(*) as n from incidents where starts_at >= ? and starts_at < ? group by severity) s`,
      [since, until, since, until, since, until],
    );
    return { since, until, ...(row ?? {}) };
  }

  async retryDead(id: string, now: Date): Promise<boolean> {
    const rows = await q(
      this.orm.em.fork(),
      "update notifications set status = 'pending', attempts = 0, next_attempt_at = ? where id = ? and status = 'dead' returning id",
      [now, id],
    );
    return rows.length === 1;
  }

  async openBySeverity(): Promise<Array<{ severity: string; n: number }>> {
    return (
      await q<{ severity: string; n: string }>(
        this.orm.em.fork(),
        "select severity, count(*) as n from incidents where status = 'firing' group by severity",
      )
    ).map((r) => ({ severity: r.severity, n: Number(r.n) }));
  }

  async purge(now: Date): Promise<number> {
    const rows = await q(
      this.orm.em.fork(),
      "delete from incidents where status = 'resolved' and resolved_at < ? returning id",
      [new Date(now.getTime() - this.config.retentionDays * 86_400_000)],
    );
    return rows.length;
  }
}
