// The alert router's notifications through service-kit's outbox (claim into a lease, send with the stable
// key as `Idempotency-Key`, mark sent / retry with backoff / dead letter; see service-kit/src/outbox.ts).
// What is the alert router's own: the incident joined to each notification, a firing notice superseded by
// a resolution committed before it went out, a channel removed from the configuration, per-channel rate
// limits, and putting a dead letter back with a fresh budget.
import { Outbox, type OutboxItem } from '@ispmon/service-kit';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { RouterConfig } from '../config.js';
import { ConflictError, q, type IncidentRow } from '../db/sql.js';
import type { RouterMetrics } from '../metrics.js';
import { makeDeliver, type Deliver } from './channels.js';
import { buildMessage, type NotificationKind, type NotificationMessage } from './message.js';

interface NotificationRow extends OutboxItem, Record<string, unknown> {
  incident_id: string;
  kind: NotificationKind;
  step: number | null;
  repeat: number | null;
  incident: IncidentRow;
  firing_delivered: boolean;
}

export class NotificationOutbox {
  private readonly deliverers = new Map<string, Deliver>();
  /** Per-channel windows: sends allowed this minute (process-local, so the limit is per replica). */
  private readonly buckets = new Map<string, { windowStart: number; used: number }>();
  private readonly outbox: Outbox<NotificationRow, NotificationMessage>;

  constructor(
    private readonly orm: MikroORM,
    private readonly config: () => RouterConfig,
    logger: Logger,
    metrics: RouterMetrics,
    random: () => number = Math.random,
  ) {
    this.outbox = new Outbox<NotificationRow, NotificationMessage>({
      tables: { items: 'notifications', attempts: 'notification_attempts', itemColumn: 'notification_id' },
      query: (sql, params) => q(this.orm.em.fork(), sql, params),
      logger,
      noun: 'notification',
      random,
      next: async (now) =>
        (
          await q<NotificationRow>(
            this.orm.em.fork(),
            `select n.id, n.incident_id, n.channel, n.kind, n.attempts, n.dead_after, n.step, n.repeat, to_jsonb(i) as incident,
                    exists (select 1 from notifications f where f.incident_id = n.incident_id and f.channel = n.channel
                               and f.kind = 'firing' and f.status = 'sent') as firing_delivered
               from notifications n join incidents i on i.id = n.incident_id
              where n.status = 'pending' and n.next_attempt_at <= ?
              order by n.next_attempt_at, n.id limit 1`,
            [now],
          )
        )[0],
      screen: (n, now) => {
        if (!this.deliverer(n.channel))
          return { settle: 'dead', error: `channel ${n.channel} is not configured`, outcome: 'dead' };
        // A resolution committed after this row was queued: the firing notice would be stale.
        if (n.kind === 'firing' && n.incident.status === 'resolved')
          return { settle: 'superseded', error: 'incident resolved before delivery', outcome: 'superseded' };
        if (!this.allowed(n.channel, now.getTime()))
          return { deferUntil: this.windowEnd(n.channel, now.getTime()), outcome: 'rate_limited' };
        return undefined;
      },
      message: (n) =>
        buildMessage(
          { ...n.incident, id: n.incident_id }, // to_jsonb gives the bigint id as a number
          n.kind,
          this.config().publicUrl,
          n,
          n.kind === 'resolved' ? n.firing_delivered : undefined,
        ),
      deliver: (n, m, signal) => (this.deliverer(n.channel) as Deliver)(m, signal),
      timeoutMs: () => this.config().deliveryTimeoutMs,
      maxAttempts: (n) => this.config().channels.get(n.channel)?.max_attempts ?? 1,
      record: (n, outcome) => metrics.notifications.inc({ channel: n.channel, outcome }),
      logFields: (n) => ({ notification: n.id, incident: n.incident_id }),
    });
  }

  /** Drops cached deliverers (after a configuration change). */
  reset(): void {
    this.deliverers.clear();
  }

  /** Stops waiting out database outages when recording an outcome (graceful shutdown). */
  stop(): void {
    this.outbox.stop();
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
  deliverNext(now: Date): Promise<boolean> {
    return this.outbox.deliverNext(now);
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
