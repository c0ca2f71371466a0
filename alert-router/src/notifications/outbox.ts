// The notification outbox. Each notification is claimed, sent and marked on its own:
//   claim  (one statement, its own transaction): move one pending, due row into its lease
//          (2 × delivery timeout + 5 s) counting the attempt, and write the attempt row with `ok` null
//          (in flight); the condition makes the claim exclusive among replicas;
//   send   (no transaction open) with the notification's stable key as `Idempotency-Key`;
//   mark   (one statement): the attempt's outcome, then sent / retry with backoff / dead letter.
// A crash between claim and mark re-sends that one notification after its lease (the receiver can drop
// it by key); a database outage during the mark is waited out, since this process knows the outcome.
import { backoffDelay, type BackoffPolicy } from '@ispmon/service-kit';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { RouterConfig } from '../config.js';
import { ConflictError, q, type IncidentRow, type Row } from '../db/sql.js';
import type { RouterMetrics } from '../metrics.js';
import { DeliveryError, makeDeliver, type Deliver } from './channels.js';
import { buildMessage, type NotificationKind, type NotificationMessage } from './message.js';

interface NotificationRow extends Row {
  id: string;
  incident_id: string;
  channel: string;
  kind: NotificationKind;
  attempts: number;
  dead_after: number | null;
  step: number | null;
  repeat: number | null;
}

interface Claim {
  notification: NotificationRow;
  attemptId: string;
  message: NotificationMessage;
}

/** Retry delays: 1 s, 2 s, 4 s … capped at 10 minutes, each within ±50 % (a `Retry-After` wins). */
const RETRY: BackoffPolicy = { baseMs: 1_000, maxMs: 600_000, jitter: 1 };
/** Recording an outcome through a database outage: 200 ms doubling to 5 s, no jitter. */
const MARK_RETRY: BackoffPolicy = { baseMs: 200, maxMs: 5_000, jitter: 0 };

export class NotificationOutbox {
  private readonly deliverers = new Map<string, Deliver>();
  /** Per-channel windows: sends allowed this minute (process-local, so the limit is per replica). */
  private readonly buckets = new Map<string, { windowStart: number; used: number }>();
  private stopping = false;

  constructor(
    private readonly orm: MikroORM,
    private readonly config: () => RouterConfig,
    private readonly logger: Logger,
    private readonly metrics: RouterMetrics,
    private readonly random: () => number = Math.random,
  ) {}

  /** Drops cached deliverers (after a configuration change). */
  reset(): void {
    this.deliverers.clear();
  }

  /** Stops waiting out database outages in `mark` (graceful shutdown). */
  stop(): void {
    this.stopping = true;
  }

  private deliverer(channel: string): Deliver | undefined {
    const c = this.config().channels.get(channel);
    if (!c) return undefined;
    let d = this.deliverers.get(channel);
    if (!d) {
      d = makeDeliver(channel, c, this.config().deliveryTimeoutMs);
      this.deliverers.set(channel, d);
    }
    return d;
  }

  private allowed(channel: string, nowMs: number): boolean {
    const limit = this.config().channels.get(channel)?.rate_limit_per_minute;
    if (!limit) return true;
    const b = this.buckets.get(channel) ?? { windowStart: nowMs, used: 0 };
    if (nowMs - b.windowStart >= 60_000) {
      b.windowStart = nowMs;
      b.used = 0;
    }
    this.buckets.set(channel, b);
    if (b.used >= limit) return false;
    b.used += 1;
    return true;
  }

  private windowEnd(channel: string, nowMs: number): Date {
    const b = this.buckets.get(channel);
    return new Date(Math.max(nowMs + 1_000, (b?.windowStart ?? nowMs) + 60_000));
  }

  /**
   * Handles the next due notification, if any: returns false when nothing is due. One notification at
   * a time, so at most one send is in flight per process when it dies.
   */
  async deliverNext(now: Date): Promise<boolean> {
    const claimed = await this.claim(now);
    if (claimed === undefined) return false;
    if (claimed === 'handled') return true;
    const { notification: n } = claimed;
    const deliver = this.deliverer(n.channel) as Deliver;
    const started = Date.now();
    let error: DeliveryError | undefined;
    try {
      await deliver(claimed.message, AbortSignal.timeout(this.config().deliveryTimeoutMs));
    } catch (err) {
      error = err instanceof DeliveryError ? err : new DeliveryError((err as Error).message);
    }
    await this.mark(claimed, now, Date.now() - started, error);
    return true;
  }

  /**
   * Picks the next due notification and claims it with one conditional statement (its own short
   * transaction): only one process can move a pending, due row into its lease, so a lost race or a
   * resolution committed in between (status no longer pending) just means "next one".
   */
  private async claim(now: Date): Promise<Claim | 'handled' | undefined> {
    const em = this.orm.em.fork();
    const [n] = await q<NotificationRow & { incident: IncidentRow; firing_delivered: boolean }>(
      em,
      `select n.id, n.incident_id, n.channel, n.kind, n.attempts, n.dead_after, n.step, n.repeat, to_jsonb(i) as incident,
              exists (select 1 from notifications f where f.incident_id = n.incident_id and f.channel = n.channel
                         and f.kind = 'firing' and f.status = 'sent') as firing_delivered
         from notifications n join incidents i on i.id = n.incident_id
        where n.status = 'pending' and n.next_attempt_at <= ?
        order by n.next_attempt_at, n.id limit 1`,
      [now],
    );
    if (!n) return undefined;
    const settle = async (sql: string, params: unknown[], outcome: string): Promise<'handled'> => {
      if (
        (await q(em, `${sql} and status = 'pending' and next_attempt_at <= ? returning id`, [...params, now]))
          .length
      )
        this.metrics.notifications.inc({ channel: n.channel, outcome });
      return 'handled';
    };
    if (!this.deliverer(n.channel))
      return settle(
        "update notifications set status = 'dead', last_error = ? where id = ?",
        [`channel ${n.channel} is not configured`, n.id],
        'dead',
      );
    // A resolution committed after this row was queued: the firing notice would be stale.
    if (n.kind === 'firing' && n.incident.status === 'resolved')
      return settle(
        "update notifications set status = 'superseded', last_error = 'incident resolved before delivery' where id = ?",
        [n.id],
        'superseded',
      );
    if (!this.allowed(n.channel, now.getTime()))
      return settle(
        'update notifications set next_attempt_at = ? where id = ?',
        [this.windowEnd(n.channel, now.getTime()), n.id],
        'rate_limited',
      );
    const lease = new Date(now.getTime() + 2 * this.config().deliveryTimeoutMs + 5_000);
    const [claimed] = await q<{ attempts: number; attempt_id: string }>(
      em,
      `with c as (
         update notifications set attempts = attempts + 1, next_attempt_at = ?
          where id = ? and status = 'pending' and next_attempt_at <= ?
         returning id, attempts
       ), a as (
         insert into notification_attempts (notification_id, at, ok) select id, ?::timestamptz, null from c returning id
       )
       select c.attempts, a.id as attempt_id from c, a`,
      [lease, n.id, now, now],
    );
    if (!claimed) return 'handled'; // another replica took it, or the incident was resolved meanwhile
    return {
      notification: { ...n, attempts: claimed.attempts },
      attemptId: claimed.attempt_id,
      message: buildMessage(
        { ...n.incident, id: n.incident_id }, // to_jsonb gives the bigint id as a number
        n.kind,
        this.config().publicUrl,
        n,
        n.kind === 'resolved' ? n.firing_delivered : undefined,
      ),
    };
  }

  /** Records the outcome; retries through a database outage (the send happened, its record must not be lost). */
  private async mark(
    c: Claim,
    now: Date,
    durationMs: number,
    error: DeliveryError | undefined,
  ): Promise<void> {
    const n = c.notification;
    const channel = this.config().channels.get(n.channel);
    const limit = n.dead_after ?? channel?.max_attempts ?? 1;
    const outcome = !error ? 'sent' : error.permanent || n.attempts >= limit ? 'dead' : 'failed';
    // One statement (one short transaction): the attempt's outcome and the notification's next state.
    const attempt =
      'with a as (update notification_attempts set ok = ?, error = ?, duration_ms = ? where id = ?) ';
    const attemptParams = [!error, error?.message ?? null, durationMs, c.attemptId];
    const [sql, params]: [string, unknown[]] =
      outcome === 'sent'
        ? [
            // Sent even if the resolution superseded it meanwhile: the receiver has it, the record says so.
            "update notifications set status = 'sent', sent_at = ?, last_error = null, attempts = greatest(attempts, ?) where id = ?",
            [now, n.attempts, n.id],
          ]
        : outcome === 'dead'
          ? [
              "update notifications set status = 'dead', last_error = ?, attempts = greatest(attempts, ?) where id = ? and status = 'pending'",
              [error?.message ?? null, n.attempts, n.id],
            ]
          : [
              "update notifications set last_error = ?, next_attempt_at = ?, attempts = greatest(attempts, ?) where id = ? and status = 'pending'",
              [
                error?.message ?? null,
                new Date(
                  now.getTime() + (error?.retryAfterMs ?? backoffDelay(n.attempts, RETRY, this.random)),
                ),
                n.attempts,
                n.id,
              ],
            ];
    for (let failures = 1; ; failures += 1) {
      try {
        await q(this.orm.em.fork(), attempt + sql, [...attemptParams, ...params]);
        break;
      } catch (err) {
        this.logger.warn(
          { event: 'notification_mark_retry', notification: n.id, error: (err as Error).message },
          'could not record a delivery outcome; retrying',
        );
        if (this.stopping) {
          this.logger.error(
            { event: 'notification_mark_lost', notification: n.id, outcome },
            'shutting down before the outcome was recorded; the notification will be sent again after its lease',
          );
          return;
        }
        await new Promise((r) => setTimeout(r, backoffDelay(failures, MARK_RETRY)));
      }
    }
    this.metrics.notifications.inc({ channel: n.channel, outcome });
    if (outcome === 'dead')
      this.logger.error(
        {
          event: 'notification_dead',
          notification: n.id,
          incident: n.incident_id,
          channel: n.channel,
          error: error?.message,
        },
        'notification dead-lettered',
      );
  }

  /**
   * Puts a dead-lettered notification back in the queue with a fresh budget of attempts. A firing notice
   * of an incident resolved since is not sent stale (ConflictError): its resolution notice covers it.
   */
  async retryDead(id: string, now: Date): Promise<boolean> {
    if (!/^\d+$/.test(id)) return false;
    return this.orm.em.fork().transactional(async (em) => {
      const [n] = await q<{ kind: string; channel: string; attempts: number; incident_status: string }>(
        em,
        `select n.kind, n.channel, n.attempts, i.status as incident_status
           from notifications n join incidents i on i.id = n.incident_id where n.id = ? and n.status = 'dead' for update of n`,
        [id],
      );
      if (!n) return false;
      if (n.kind === 'firing' && n.incident_status === 'resolved')
        throw new ConflictError(
          `notification ${id} is a firing notice of a resolved incident; its resolution notice covers it`,
        );
      const budget = this.config().channels.get(n.channel)?.max_attempts ?? 1;
      await q(
        em,
        "update notifications set status = 'pending', dead_after = ?, next_attempt_at = ? where id = ?",
        [n.attempts + budget, now, id],
      );
      return true;
    });
  }
}
