// The alert router's file configuration (channels and escalation policies), reviewed like
// Alertmanager's routes. Secrets are `{ env: NAME }` / `{ file: path }` references or literals.
import { parse } from 'yaml';
import { z } from 'zod';
import { resolveSecret } from '@ispmon/service-kit';
import { duration, policySchema, type EscalationPolicy } from './escalation/policy.js';

const secret = z.union([
  z.string(),
  z.strictObject({ env: z.string() }),
  z.strictObject({ file: z.string() }),
]);

const common = {
  rate_limit_per_minute: z.number().int().positive().optional(),
  max_attempts: z.number().int().min(1).max(50).default(8),
};

export const channelSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('telegram'),
    bot_token: secret,
    chat_id: z.string(),
    api_url: z.string().default('https://api.telegram.org'),
    ...common,
  }),
  z.strictObject({
    type: z.literal('email'),
    smtp_url: secret,
    from: z.string(),
    to: z.array(z.string()).min(1),
    ...common,
  }),
  z.strictObject({ type: z.literal('slack'), webhook_url: secret, ...common }),
  z.strictObject({ type: z.literal('webhook'), url: z.string(), secret: secret.optional(), ...common }),
  z.strictObject({
    type: z.literal('ntfy'),
    url: z.string(),
    topic: z.string(),
    token: secret.optional(),
    ...common,
  }),
  z.strictObject({
    type: z.literal('sms'),
    url: z.string(),
    to: z.array(z.string()).min(1),
    token: secret.optional(),
    ...common,
  }),
]);
export type ChannelConfig = z.infer<typeof channelSchema>;

export const routerConfigSchema = z.strictObject({
  public_url: z.string().default('http://localhost:8080'),
  retention_days: z.number().int().positive().default(400),
  /** How long one send may take; a claimed notification is re-sent only after twice this plus 5 s. */
  delivery_timeout: duration.default(10_000),
  channels: z.record(z.string(), channelSchema).default({}),
  policies: z.array(policySchema).default([]),
});

export interface RouterConfig {
  publicUrl: string;
  retentionDays: number;
  deliveryTimeoutMs: number;
  channels: Map<string, ChannelConfig>;
  policies: EscalationPolicy[];
}

export function parseRouterConfig(text: string, source: string): RouterConfig {
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (err) {
    throw new Error(`${source}: invalid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const result = routerConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new Error(
      result.error.issues.map((i) => `${source}: ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n'),
    );
  }
  const c = result.data;
  for (const [i, p] of c.policies.entries()) {
    for (const [j, s] of p.steps.entries()) {
      for (const ch of s.notify) {
        if (!c.channels[ch])
          throw new Error(`${source}: policies.${i}.steps.${j}.notify: unknown channel '${ch}'`);
      }
    }
  }
  return {
    publicUrl: c.public_url.replace(/\/$/, ''),
    retentionDays: c.retention_days,
    deliveryTimeoutMs: c.delivery_timeout,
    channels: new Map(Object.entries(c.channels)),
    policies: c.policies,
  };
}

/** Process settings from the environment (12-factor); the YAML file holds channels and policies. */
export interface EnvSettings {
  databaseUrl: string;
  host: string;
  port: number;
  configFile?: string;
  alertmanagerUrl?: string;
  webhookBearerToken?: string;
  webhookBasicAuth?: { username: string; password: string };
  maxWebhookBytes?: number;
  adminToken?: string;
}

const envSchema = z.object({
  DATABASE_URL: z.string({ error: 'DATABASE_URL is required' }).min(1, 'DATABASE_URL is required'),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  ALERT_ROUTER_CONFIG: z.string().optional(),
  ALERTMANAGER_URL: z.string().optional(),
  WEBHOOK_BEARER_TOKEN: z.string().optional(),
  WEBHOOK_BASIC_AUTH_USERNAME: z.string().optional(),
  WEBHOOK_BASIC_AUTH_PASSWORD: z.string().optional(),
  WEBHOOK_BASIC_AUTH_PASSWORD_FILE: z.string().optional(),
  WEBHOOK_MAX_BYTES: z.coerce.number().int().min(1024).optional(),
  ALERT_ROUTER_ADMIN_TOKEN: z.string().optional(),
});

/** Reads the environment; throws one line per problem (the process logs it and exits 2). */
export function settingsFromEnv(env: Record<string, string | undefined>): EnvSettings {
  const r = envSchema.safeParse(env);
  if (!r.success)
    throw new Error(
      r.error.issues
        .map((i) =>
          i.message === 'DATABASE_URL is required' ? i.message : `${i.path.join('.')}: ${i.message}`,
        )
        .join('\n'),
    );
  const e = r.data;
  const password =
    e.WEBHOOK_BASIC_AUTH_PASSWORD ??
    (e.WEBHOOK_BASIC_AUTH_PASSWORD_FILE
      ? resolveSecret({ file: e.WEBHOOK_BASIC_AUTH_PASSWORD_FILE }, 'WEBHOOK_BASIC_AUTH_PASSWORD_FILE')
      : undefined);
  if ((e.WEBHOOK_BASIC_AUTH_USERNAME === undefined) !== (password === undefined))
    throw new Error(
      'WEBHOOK_BASIC_AUTH_USERNAME and WEBHOOK_BASIC_AUTH_PASSWORD(_FILE) are set together or not at all',
    );
  return {
    databaseUrl: e.DATABASE_URL,
    host: e.HOST,
    port: e.PORT,
    ...(e.ALERT_ROUTER_CONFIG ? { configFile: e.ALERT_ROUTER_CONFIG } : {}),
    ...(e.ALERTMANAGER_URL ? { alertmanagerUrl: e.ALERTMANAGER_URL } : {}),
    ...(e.WEBHOOK_BEARER_TOKEN ? { webhookBearerToken: e.WEBHOOK_BEARER_TOKEN } : {}),
    ...(e.WEBHOOK_BASIC_AUTH_USERNAME !== undefined && password !== undefined
      ? { webhookBasicAuth: { username: e.WEBHOOK_BASIC_AUTH_USERNAME, password } }
      : {}),
    ...(e.WEBHOOK_MAX_BYTES ? { maxWebhookBytes: e.WEBHOOK_MAX_BYTES } : {}),
    ...(e.ALERT_ROUTER_ADMIN_TOKEN ? { adminToken: e.ALERT_ROUTER_ADMIN_TOKEN } : {}),
  };
}
