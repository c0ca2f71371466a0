// The isolation page wired from the environment (12-factor): PORTAL_SECRET or PORTAL_SECRET_FILE (signs
// the links in notices; at least 32 bytes), PORTAL_PUBLIC_URL (where subscribers reach billing; needed
// with the secret), PORTAL_LINK_TTL_SECONDS (604800), PORTAL_RATE_LIMIT_PER_MINUTE (30),
// PORTAL_TRUSTED_PROXIES (comma-separated addresses/CIDRs; empty: X-Forwarded-For is never read),
// PORTAL_TIME_ZONE (Asia/Jakarta), PORTAL_SESSION_LOOKUP_TIMEOUT_MS (3000: per router, for addresses
// from a pool, looked up in /ppp/active); the provider's name and phone from SLA_PROVIDER_NAME / _PHONE.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ApiExtension } from '../app.js';
import type { RuntimeDeps } from '../runtime.js';
import type { PortalLinkSettings } from './link.js';
import { IsolationPortal } from './routes.js';
import { PoolAddressLookup, type ActiveSessions } from './sessions.js';
import { PortalStore } from './store.js';

const int = (name: string, fallback: number, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a whole number` })
    .int(`${name} must be a whole number`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`)
    .default(fallback);

const envSchema = z.object({
  PORTAL_SECRET: z.string().min(32, 'PORTAL_SECRET must be at least 32 bytes').optional(),
  PORTAL_PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'PORTAL_PUBLIC_URL must be an http(s) URL' })
    .optional(),
  PORTAL_LINK_TTL_SECONDS: int('PORTAL_LINK_TTL_SECONDS', 7 * 86_400, 300, 90 * 86_400),
  PORTAL_RATE_LIMIT_PER_MINUTE: int('PORTAL_RATE_LIMIT_PER_MINUTE', 30, 1, 100_000),
  PORTAL_TRUSTED_PROXIES: z.string().default(''),
  PORTAL_TIME_ZONE: z.string().default('Asia/Jakarta'),
  PORTAL_SESSION_LOOKUP_TIMEOUT_MS: int('PORTAL_SESSION_LOOKUP_TIMEOUT_MS', 3_000, 100, 60_000),
  SLA_PROVIDER_NAME: z.string().default('ispmon ISP'),
  SLA_PROVIDER_PHONE: z.string().optional(),
});

export interface PortalSettings {
  links?: PortalLinkSettings;
  trustedProxies: string[];
  ratePerMinute: number;
  timeZone: string;
  provider: { name: string; phone?: string };
  /** How long a page waits for each router's /ppp/active when the address is not billing's. */
  sessionLookupTimeoutMs: number;
}

/** Reads the portal's settings; throws naming the variable that is wrong. */
export function portalSettings(env: NodeJS.ProcessEnv): PortalSettings {
  const raw = { ...env };
  if (env.PORTAL_SECRET_FILE) raw.PORTAL_SECRET = readFileSync(env.PORTAL_SECRET_FILE, 'utf8').trim();
  for (const k of Object.keys(raw)) if (raw[k] === '') delete raw[k];
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('; '));
  const e = parsed.data;
  if (e.PORTAL_SECRET && !e.PORTAL_PUBLIC_URL)
    throw new Error('PORTAL_PUBLIC_URL is required with PORTAL_SECRET (signed links point at it)');
  try {
    new Intl.DateTimeFormat('en', { timeZone: e.PORTAL_TIME_ZONE });
  } catch {
    throw new Error(`PORTAL_TIME_ZONE ${e.PORTAL_TIME_ZONE} is not a time zone`);
  }
  return {
    ...(e.PORTAL_SECRET && e.PORTAL_PUBLIC_URL
      ? {
          links: {
            secret: Buffer.from(e.PORTAL_SECRET, 'utf8'),
            publicUrl: e.PORTAL_PUBLIC_URL,
            ttlSeconds: e.PORTAL_LINK_TTL_SECONDS,
          },
        }
      : {}),
    trustedProxies: e.PORTAL_TRUSTED_PROXIES.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    ratePerMinute: e.PORTAL_RATE_LIMIT_PER_MINUTE,
    timeZone: e.PORTAL_TIME_ZONE,
    sessionLookupTimeoutMs: e.PORTAL_SESSION_LOOKUP_TIMEOUT_MS,
    provider: { name: e.SLA_PROVIDER_NAME, ...(e.SLA_PROVIDER_PHONE ? { phone: e.SLA_PROVIDER_PHONE } : {}) },
  };
}

/**
 * The portal as a billing extension; settings are read (and refused) before billing starts. With
 * `sessions` (the RouterOS gateway), an address billing did not assign is asked of the routers.
 */
export function portalExtensions(
  env: NodeJS.ProcessEnv,
  o: { sessions?: ActiveSessions } = {},
): (deps: RuntimeDeps) => ApiExtension[] {
  const settings = portalSettings(env);
  return (deps) => {
    const store = new PortalStore(deps.orm);
    if (!settings.links)
      deps.logger.warn(
        { event: 'portal_links_disabled' },
        'PORTAL_SECRET not set: the isolation page answers by source address only; signed links are refused',
      );
    return [
      new IsolationPortal({
        ...settings,
        store,
        logger: deps.logger,
        registry: deps.metrics.registry,
        clock: deps.clock,
        ...(o.sessions
          ? {
              pool: new PoolAddressLookup({
                store,
                sessions: o.sessions,
                box: deps.box,
                logger: deps.logger,
                registry: deps.metrics.registry,
                timeoutMs: settings.sessionLookupTimeoutMs,
              }),
            }
          : {}),
      }),
    ];
  };
}
