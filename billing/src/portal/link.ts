// Signed, expiring links to the isolation page, for notices that reach a subscriber away from their
// connection: /portal/link/<subscription id>.<expiry, unix seconds>.<HMAC-SHA256, base64url>. Pure:
// time is an argument; the secret comes from the configuration (PORTAL_SECRET or PORTAL_SECRET_FILE).
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface PortalLinkSettings {
  /** At least 32 bytes; only the server knows it. */
  secret: Buffer;
  /** Where subscribers reach billing's portal from outside, e.g. https://bayar.example.net */
  publicUrl: string;
  ttlSeconds: number;
}

export type LinkCheck =
  | { ok: true; subscriptionId: string; expiresAt: Date }
  | { ok: false; reason: 'malformed' | 'signature' | 'expired' };

const TOKEN = /^(\d{1,18})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

function mac(secret: Buffer, subscriptionId: string, expiry: string): Buffer {
  // Domain-separated, so a MAC made for anything else with the same secret is no portal link.
  return createHmac('sha256', secret).update(`ispmon-portal-link:v1:${subscriptionId}:${expiry}`).digest();
}

/** The token for one subscription, valid until `now` + ttl. */
export function signPortalToken(
  secret: Buffer,
  subscriptionId: string | number | bigint,
  expiresAt: Date,
): string {
  const id = String(subscriptionId);
  if (!/^\d{1,18}$/.test(id)) throw new Error(`subscription id must be a positive integer, got ${id}`);
  const expiry = String(Math.floor(expiresAt.getTime() / 1000));
  return `${id}.${expiry}.${mac(secret, id, expiry).toString('base64url')}`;
}

/** The full link a notice carries: `<publicUrl>/portal/link/<token>`, valid for `ttlSeconds` from `now`. */
export function portalLink(
  s: PortalLinkSettings,
  subscriptionId: string | number | bigint,
  now: Date,
): { url: string; expiresAt: Date } {
  const expiresAt = new Date(now.getTime() + s.ttlSeconds * 1000);
  const token = signPortalToken(s.secret, subscriptionId, expiresAt);
  return { url: `${s.publicUrl.replace(/\/+$/, '')}/portal/link/${token}`, expiresAt };
}

/** Checks a token: the MAC in constant time, then the expiry against `now`. */
export function verifyPortalToken(secret: Buffer, token: string, now: Date): LinkCheck {
  const m = TOKEN.exec(token);
  if (!m?.[1] || !m[2] || !m[3]) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(m[3], 'base64url');
  const wanted = mac(secret, m[1], m[2]);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted))
    return { ok: false, reason: 'signature' };
  const expiresAt = new Date(Number(m[2]) * 1000);
  if (expiresAt.getTime() <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, subscriptionId: m[1], expiresAt };
}
