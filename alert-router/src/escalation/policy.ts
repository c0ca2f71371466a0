// Escalation policies: matched by labels, ordered steps, the last one repeating. The next step is a
// pure function of the policy, where the incident is, and the time: no clock or I/O here.
import { z } from 'zod';

export const duration = z
  .string()
  .regex(/^\d+(s|m|h)$/, 'must be a duration like 30s, 5m or 1h')
  .transform(
    (v) =>
      Number(v.slice(0, -1)) *
      ({ s: 1_000, m: 60_000, h: 3_600_000 } as const)[v.slice(-1) as 's' | 'm' | 'h'],
  );

export const stepSchema = z.strictObject({
  notify: z.array(z.string()).min(1),
  /** Wait before the next step (ignored on the last step unless `repeat`). */
  wait: duration.default(300_000),
});

export const policySchema = z.strictObject({
  name: z.string().min(1),
  /** Label matchers: exact values, or `~regex` for a regular expression (anchored). */
  match: z.record(z.string(), z.string()).default({}),
  steps: z.array(stepSchema).min(1),
  /** Repeat the last step every this long until acknowledged or resolved. */
  repeat: duration.optional(),
});

export type EscalationPolicy = z.infer<typeof policySchema>;

export function matches(policy: EscalationPolicy, labels: Record<string, string>): boolean {
  return Object.entries(policy.match).every(([name, want]) => {
    const value = labels[name] ?? '';
    if (want.startsWith('~')) return new RegExp(`^(?:${want.slice(1)})$`).test(value);
    return value === want;
  });
}

/** The first policy whose matchers all match, like Alertmanager's routes without `continue`. */
export function selectPolicy(
  policies: readonly EscalationPolicy[],
  labels: Record<string, string>,
): EscalationPolicy | undefined {
  return policies.find((p) => matches(p, labels));
}

export interface EscalationState {
  step: number;
  repeats: number;
}

export interface EscalationAction {
  /** Channels to notify now. */
  notify: string[];
  /** Where the escalation stands after this action, and when it acts next (undefined: done). */
  next?: { state: EscalationState; dueAt: Date };
  /** A key that is the same for the same step/repeat, so a redelivery never notifies twice. */
  dedupe: string;
}

/** What to do when the escalation timer of an incident at `state` fires at `now`. */
export function escalate(policy: EscalationPolicy, state: EscalationState, now: Date): EscalationAction {
  const last = policy.steps.length - 1;
  const index = Math.min(state.step, last);
  const step = policy.steps[index] as z.infer<typeof stepSchema>;
  const dedupe = `${policy.name}:${index}:${state.repeats}`;
  if (index < last) {
    return {
      notify: step.notify,
      dedupe,
      next: { state: { step: index + 1, repeats: 0 }, dueAt: new Date(now.getTime() + step.wait) },
    };
  }
  if (policy.repeat !== undefined) {
    return {
      notify: step.notify,
      dedupe,
      next: {
        state: { step: index, repeats: state.repeats + 1 },
        dueAt: new Date(now.getTime() + policy.repeat),
      },
    };
  }
  return { notify: step.notify, dedupe };
}
