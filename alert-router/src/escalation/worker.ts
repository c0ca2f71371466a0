// The escalation worker: fires due steps from the `escalations` timer table. Each round takes due rows
// with FOR UPDATE SKIP LOCKED, so a restart resumes on time and replicas never fire a step twice; each
// step queues one notification per channel (unique dedupe key) for the outbox.
import type { MikroORM } from '@mikro-orm/postgresql';
import type { RouterConfig } from '../config.js';
import { q } from '../db/sql.js';
import { recordEvent } from '../lifecycle.js';
import type { RouterMetrics } from '../metrics.js';
import { escalate } from './policy.js';

export class EscalationWorker {
  constructor(
    private readonly orm: MikroORM,
    private readonly config: () => RouterConfig,
    private readonly metrics: RouterMetrics,
  ) {}

  /** Fires due escalation steps; returns how many timers it took (0: nothing due). */
  async tick(now: Date, batch = 100): Promise<number> {
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
        const policy = this.config().policies.find((p) => p.name === timer.policy);
        if (!policy) {
          await q(em, "update escalations set state = 'stopped' where incident_id = ?", [timer.incident_id]);
          continue;
        }
        const action = escalate(policy, { step: timer.step, repeats: timer.repeats }, now);
        this.metrics.escalationLag.observe(
          Math.max(0, now.getTime() - new Date(timer.due_at).getTime()) / 1000,
        );
        const step = Math.min(timer.step, policy.steps.length - 1);
        for (const channel of action.notify) {
          await q(
            em,
            "insert into notifications (incident_id, channel, kind, dedupe_key, status, next_attempt_at, created_at, step, repeat) values (?, ?, 'firing', ?, 'pending', ?, ?, ?, ?) on conflict (dedupe_key) do nothing",
            [
              timer.incident_id,
              channel,
              `${timer.incident_id}:${action.dedupe}:${channel}`,
              now,
              now,
              step,
              timer.repeats,
            ],
          );
        }
        await recordEvent(
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
}
