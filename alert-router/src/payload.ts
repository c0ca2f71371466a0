// Alertmanager's webhook payload, version 4 (prometheus/alertmanager notify/webhook). Unknown fields
// that newer Alertmanagers add (truncatedAlerts, notification_reason, routeLabels…) are allowed.
import { z } from 'zod';

const labelMap = z.record(z.string(), z.string());

export const alertSchema = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels: labelMap.refine(
    (l) => typeof l.alertname === 'string' && l.alertname.length > 0,
    'must contain alertname',
  ),
  annotations: labelMap.default({}),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.string().default('0001-01-01T00:00:00Z'),
  generatorURL: z.string().default(''),
  fingerprint: z.string().min(1),
});

export const webhookSchema = z.looseObject({
  version: z.literal('4'),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().min(0).default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: labelMap.default({}),
  commonLabels: labelMap.default({}),
  commonAnnotations: labelMap.default({}),
  externalURL: z.string().default(''),
  alerts: z.array(alertSchema).min(1),
});

export type WebhookAlert = z.infer<typeof alertSchema>;
export type WebhookPayload = z.infer<typeof webhookSchema>;

/** Alertmanager sends the zero time for "no end"; anything before year 1000 means unset. */
export function endsAtOf(alert: WebhookAlert): Date | undefined {
  const d = new Date(alert.endsAt);
  return Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1000 ? undefined : d;
}

/** The first validation problem as "path: message", for the 400 answer and the stored rejection. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid payload';
  return `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`;
}
