// What notices to subscribers need from configuration (the YAML file named by BILLING_NOTICES): which
// channels exist and how to reach their gateways, reminders, quiet hours, retries. The zod schema is the
// reference; README "Notices to subscribers" shows an example.
import { z } from 'zod';
import { timeZoneSchema } from '../policy.js';

export const NOTICE_EVENTS = [
  'invoice_issued',
  'reminder',
  'overdue',
  'suspended',
  'paid',
  'restored',
] as const;
export type NoticeEvent = (typeof NOTICE_EVENTS)[number];
export const NOTICE_CHANNELS = ['email', 'sms', 'whatsapp'] as const;
export type NoticeChannel = (typeof NOTICE_CHANNELS)[number];
export const LANGUAGES = ['id', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

/** A secret given inline, or (better) by environment variable or file. */
const secretSchema = z.union([
  z.string().min(1),
  z.strictObject({ env: z.string().min(1) }),
  z.strictObject({ file: z.string().min(1) }),
]);
export type Secret = z.infer<typeof secretSchema>;

const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time like 21:00');

/**
 * An HTTP message gateway (SMS or WhatsApp, e.g. Fonnte, Wablas, Zenziva): one POST per message with the
 * token in a header and the fields of `body`, each a handlebars template over `to` (the number) and
 * `message` (the text).
 */
const gatewaySchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  token: secretSchema.optional(),
  /** Header that carries the token: Fonnte and Wablas read `Authorization: <token>` without a scheme. */
  auth_header: z.string().min(1).default('authorization'),
  /** Put before the token, e.g. `Bearer`; empty for the token alone. */
  auth_scheme: z.string().default(''),
  format: z.enum(['json', 'form']).default('json'),
  body: z
    .record(z.string().min(1), z.string())
    .refine((b) => Object.keys(b).length > 0, 'needs at least one field')
    .default({ target: '{{to}}', message: '{{message}}' }),
  /** A JSON field of the answer that must be `true` (Fonnte answers 200 with `status: false` on failure). */
  success_field: z.string().min(1).optional(),
});
export type GatewayConfig = z.infer<typeof gatewaySchema>;

export const noticeConfigSchema = z.strictObject({
  /** Language of customers who did not choose one. */
  default_language: z.enum(LANGUAGES).default('id'),
  /** Reminders this many days before an unpaid invoice falls due (one notice per listed day). */
  reminder_days_before: z.array(z.number().int().min(1).max(60)).max(5).default([3]),
  /** Events older than this are not noticed any more (after an outage, or when notices are first enabled). */
  lookback_hours: z
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(48),
  /** Local time of quiet hours and of the dates in messages. */
  time_zone: timeZoneSchema.default('Asia/Jakarta'),
  /** Due notices wait while it is quiet (local time); null sends around the clock. */
  quiet_hours: z
    .strictObject({ start: clockTime, end: clockTime })
    .nullable()
    .default({ start: '21:00', end: '07:00' }),
  max_attempts: z.number().int().min(1).max(50).default(8),
  delivery_timeout_seconds: z.number().min(1).max(120).default(10),
  scan_interval_seconds: z.number().int().min(0).max(86_400).default(300),
  delivery_interval_seconds: z.number().int().min(0).max(3_600).default(15),
  /** Signs the messages. */
  provider_name: z.string().min(1).default('ispmon ISP'),
  email: z
    .strictObject({
      /** Defaults to SMTP_URL, the transport the SLA reports use. */
      smtp_url: secretSchema.optional(),
      from: z.string().min(3),
    })
    .optional(),
  sms: gatewaySchema.optional(),
  whatsapp: gatewaySchema.optional(),
});
export type NoticeConfig = z.infer<typeof noticeConfigSchema>;

/** Parses the configuration, naming the field and the reason when it is wrong. */
export function parseNoticeConfig(value: unknown, source: string): NoticeConfig {
  const r = noticeConfigSchema.safeParse(value ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new Error(`${source}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
}

/** The channels this configuration can send through. */
export function configuredChannels(c: NoticeConfig): NoticeChannel[] {
  return NOTICE_CHANNELS.filter((ch) => c[ch] !== undefined);
}
