import { escalate, policySchema, selectPolicy } from './policy.js';

const policy = policySchema.parse({
  name: 'critical-noc',
  match: { severity: 'critical', site: '~jkt|sby' },
  steps: [
    { notify: ['noc-telegram'], wait: '5m' },
    { notify: ['noc-email', 'oncall-sms'], wait: '15m' },
  ],
  repeat: '30m',
});
const t0 = new Date('2026-11-22T03:00:00Z');
const minutes = (n: number): Date => new Date(t0.getTime() + n * 60_000);

describe('escalation policies', () => {
  it('matches on exact labels and anchored regular expressions', () => {
    expect(selectPolicy([policy], { severity: 'critical', site: 'jkt' })).toBe(policy);
    expect(selectPolicy([policy], { severity: 'critical', site: 'jkt-2' })).toBeUndefined();
    expect(selectPolicy([policy], { severity: 'warning', site: 'sby' })).toBeUndefined();
  });

  it('walks the steps with their waits, then repeats the last step', () => {
    const a = escalate(policy, { step: 0, repeats: 0 }, t0);
    expect(a).toEqual({
      notify: ['noc-telegram'],
      dedupe: 'critical-noc:0:0',
      next: { state: { step: 1, repeats: 0 }, dueAt: minutes(5) },
    });
    const b = escalate(policy, { step: 1, repeats: 0 }, minutes(5));
    expect(b).toEqual({
      notify: ['noc-email', 'oncall-sms'],
      dedupe: 'critical-noc:1:0',
      next: { state: { step: 1, repeats: 1 }, dueAt: minutes(35) },
    });
    const c = escalate(policy, { step: 1, repeats: 1 }, minutes(35));
    expect(c.dedupe).toBe('critical-noc:1:1');
    expect(c.next?.dueAt).toEqual(minutes(65));
  });

  it('ends after the last step when the policy does not repeat', () => {
    const once = policySchema.parse({ name: 'once', steps: [{ notify: ['a'] }] });
    expect(escalate(once, { step: 0, repeats: 0 }, t0)).toEqual({ notify: ['a'], dedupe: 'once:0:0' });
  });

  it('rejects a policy with a bad duration, naming it', () => {
    expect(() => policySchema.parse({ name: 'x', steps: [{ notify: ['a'], wait: 'soon' }] })).toThrow(
      /must be a duration like 30s, 5m or 1h/,
    );
  });
});
