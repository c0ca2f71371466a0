// The REST API's shapes as zod schemas: requests are validated with them, responses are checked
// against them, and the OpenAPI document is generated from them (api/openapi.ts).
import { z } from 'zod';

const dateTime = z.iso.datetime({ offset: true });
const labelMap = z.record(z.string(), z.string());

export const idParams = z.object({ id: z.string().regex(/^\d+$/, 'must be a numeric id') });

export const listQuery = z.object({
  status: z.enum(['firing', 'resolved', 'acknowledged']).optional(),
  severity: z.string().optional(),
  label: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .describe('name=value, repeatable; all must match'),
  since: dateTime.optional().describe('incidents that started at or after'),
  until: dateTime.optional().describe('incidents that started before'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const statsQuery = z.object({
  since: dateTime.optional().describe('default: 30 days before until'),
  until: dateTime.optional().describe('default: now'),
});

export const ackBody = z.strictObject({
  note: z.string().max(2000).optional(),
  silenceMinutes: z
    .number()
    .int()
    .min(1)
    .max(10080)
    .optional()
    .describe('also create an Alertmanager silence on the incident labels for this long'),
});

export const resolveBody = z.strictObject({
  note: z.string().min(1, 'a resolution note is required').max(2000),
});

export const errorSchema = z.object({ error: z.string() });

export const incidentSchema = z.looseObject({
  id: z.string(),
  fingerprint: z.string(),
  starts_at: dateTime,
  alertname: z.string(),
  severity: z.string(),
  status: z.enum(['firing', 'resolved']),
  labels: labelMap,
  annotations: labelMap,
  summary: z.string(),
  generator_url: z.string(),
  receiver: z.string(),
  escalation_policy: z.string().nullable(),
  first_seen_at: dateTime,
  last_seen_at: dateTime,
  ends_at: dateTime.nullable(),
  resolved_at: dateTime.nullable(),
  resolved_by: z.string().nullable(),
  resolution_note: z.string().nullable(),
  acknowledged_at: dateTime.nullable(),
  acknowledged_by: z.string().nullable(),
  ack_note: z.string().nullable(),
  silence_id: z.string().nullable(),
});

export const incidentListSchema = z.object({
  items: z.array(incidentSchema),
  total: z.number().int(),
  summary: z.object({
    firing: z.number().int(),
    resolved: z.number().int(),
    acknowledged: z.number().int(),
    critical: z.number().int(),
    warning: z.number().int(),
  }),
});

export const incidentDetailSchema = z.object({
  incident: incidentSchema,
  events: z.array(
    z.object({
      at: dateTime,
      type: z.string(),
      actor: z.string().nullable(),
      detail: z.record(z.string(), z.unknown()),
    }),
  ),
  notifications: z.array(
    z.object({
      id: z.string(),
      channel: z.string(),
      kind: z.enum(['firing', 'resolved', 'acknowledged']),
      step: z.number().int().nullable(),
      repeat: z.number().int().nullable(),
      status: z.enum(['pending', 'sent', 'dead', 'superseded']),
      attempts: z.number().int(),
      last_error: z.string().nullable(),
      created_at: dateTime,
      sent_at: dateTime.nullable(),
    }),
  ),
});

export const statsSchema = z.object({
  since: dateTime,
  until: dateTime,
  incidents: z.number().int(),
  by_severity: z.record(z.string(), z.number().int()),
  mtta_seconds: z.number().nullable().describe('mean time to acknowledge; null when none was'),
  mttr_seconds: z.number().nullable().describe('mean time to resolve; null when none was'),
});

export const retryResultSchema = z.object({ status: z.literal('pending') });

export const ingestResultSchema = z.object({
  status: z.literal('stored'),
  incidents: z.number().int(),
  created: z.number().int(),
  resolved: z.number().int(),
});
