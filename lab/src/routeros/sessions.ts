// Session life: PPP sessions connect, drop (by churn, a scenario or a removed session) and redial, as
// subscribers' CPEs do, with `listen` events for /ppp/active.
import { isIPv4 } from 'node:net';
import { macFor, prng } from './formats.js';
import type { PppActive, RouterModel } from './model.js';
import { activeRow } from './rows.js';

export function connectSession(m: RouterModel, name: string, agoSeconds = 0): void {
  const secret = m.secrets.find((s) => s.name === name);
  if (!secret || secret.disabled) return;
  if (m.active.some((a) => a.name === name)) return;
  const index = m.secrets.indexOf(secret);
  m.active.push({
    id: m.newId(),
    name,
    service: secret.service === 'any' ? 'pppoe' : secret.service,
    callerId: macFor(prng(index + 7)),
    // A secret's own remote-address wins, as on RouterOS; otherwise an address from the lab's pool.
    address: isIPv4(secret.remoteAddress)
      ? secret.remoteAddress
      : `10.10.${Math.floor(index / 250)}.${(index % 250) + 2}`,
    since: m.seconds() - agoSeconds,
    sessionId: `0x81${(index + 0x100000).toString(16).toUpperCase()}`,
    profile: secret.profile,
    rate: 20_000 + (index % 17) * 10_000,
  });
  m.emit('/ppp/active', activeRow(m, m.active[m.active.length - 1] as PppActive));
}

/** Drops a session as the router would (the client redials later unless its secret is disabled). */
export function disconnectSession(m: RouterModel, name: string, reconnectAfterMs = 2_000): boolean {
  const i = m.active.findIndex((a) => a.name === name);
  if (i < 0) return false;
  const [gone] = m.active.splice(i, 1);
  if (gone) m.emit('/ppp/active', { '.id': gone.id, '.dead': 'true' });
  const secret = m.secrets.find((s) => s.name === name);
  if (secret) secret.lastLoggedOut = m.seconds();
  if (reconnectAfterMs >= 0) m.reconnecting.set(name, m.now() + reconnectAfterMs);
  return true;
}

export function disconnectAllSessions(m: RouterModel, reconnectAfterMs = 5_000): number {
  const names = m.active.map((a) => a.name);
  for (const name of names) disconnectSession(m, name, reconnectAfterMs);
  return names.length;
}

/** Advances session churn: reconnects due sessions, and with `churnPerTick` probability drops one. */
export function tickSessions(m: RouterModel, churnProbability: number): void {
  const now = m.now();
  for (const [name, at] of m.reconnecting) {
    if (at <= now) {
      m.reconnecting.delete(name);
      connectSession(m, name);
    }
  }
  if (churnProbability > 0 && m.active.length && m.random() < churnProbability) {
    const victim = m.active[Math.floor(m.random() * m.active.length)];
    if (victim) disconnectSession(m, victim.name, 1_000 + Math.floor(m.random() * 4_000));
  }
}

export function scheduleReconnect(m: RouterModel, name: string, afterMs: number): void {
  if (!m.active.some((a) => a.name === name)) m.reconnecting.set(name, m.now() + afterMs);
}
