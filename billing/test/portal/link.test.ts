// Signed portal links: what a notice carries opens the page until it expires, and nothing else does.
import { portalLink, signPortalToken, verifyPortalToken } from '../../src/portal/link.js';

const secret = Buffer.from('a-portal-secret-of-at-least-32-bytes!!', 'utf8');
const now = new Date('2026-11-30T10:00:00Z');
const settings = { secret, publicUrl: 'https://bayar.example.net/', ttlSeconds: 3600 };

describe('portal links', () => {
  it('makes a link under the public URL that verifies until it expires', () => {
    const { url, expiresAt } = portalLink(settings, '42', now);
    expect(expiresAt.toISOString()).toBe('2026-11-30T11:00:00.000Z');
    const m = /^https:\/\/bayar\.example\.net\/portal\/link\/([^/]+)$/.exec(url);
    expect(m).not.toBeNull();
    const token = m?.[1] ?? '';
    expect(verifyPortalToken(secret, token, now)).toEqual({ ok: true, subscriptionId: '42', expiresAt });
    expect(verifyPortalToken(secret, token, new Date(expiresAt.getTime() - 1000)).ok).toBe(true);
    expect(verifyPortalToken(secret, token, expiresAt)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a token signed with another secret', () => {
    const token = signPortalToken(
      Buffer.from('another-secret-of-at-least-32-bytes!!!'),
      '42',
      new Date(now.getTime() + 60_000),
    );
    expect(verifyPortalToken(secret, token, now)).toEqual({ ok: false, reason: 'signature' });
  });

  it('refuses a token whose subscription id or expiry was changed', () => {
    const token = signPortalToken(secret, '42', new Date(now.getTime() + 60_000));
    const [id, expiry, mac] = token.split('.');
    expect(verifyPortalToken(secret, `43.${expiry}.${mac}`, now)).toEqual({ ok: false, reason: 'signature' });
    expect(verifyPortalToken(secret, `${id}.${Number(expiry) + 86_400}.${mac}`, now)).toEqual({
      ok: false,
      reason: 'signature',
    });
    // One character of the MAC changed.
    const flipped = `${mac?.slice(0, -1)}${mac?.endsWith('A') ? 'B' : 'A'}`;
    expect(verifyPortalToken(secret, `${id}.${expiry}.${flipped}`, now)).toEqual({
      ok: false,
      reason: 'signature',
    });
  });

  it.each([
    ['empty', ''],
    ['two parts', '42.1700000000'],
    ['a short MAC', '42.1700000000.abc'],
    ['a non-numeric id', 'x.1700000000.' + 'A'.repeat(43)],
    ['a MAC with padding', '42.1700000000.' + 'A'.repeat(42) + '='],
    ['a path', '../../etc/passwd'],
  ])('refuses a malformed token: %s', (_name, token) => {
    expect(verifyPortalToken(secret, token, now)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('signs subscription ids only', () => {
    expect(() => signPortalToken(secret, '4 2', now)).toThrow('subscription id must be a positive integer');
  });
});
