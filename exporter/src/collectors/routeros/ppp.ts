import type { MetricFamily } from '../../exposition.js';
import { parseCounter, parseDuration, parsePair, type RouterOsRow } from '@ispmon/routeros';
import type { RouterOsCollector } from './types.js';
import { countBy } from './types.js';

/**
 * Sessions per (service, profile), with a 0 for every pair the router's secrets make known, so that a
 * total outage reads 0 instead of vanishing (an absent series raises no alert). A secret with
 * `service=any` stands for every service in use or named by another secret; with none known it keeps
 * `service="any"`; with no secret at all, one `{service="",profile=""} 0`. The profile comes from the subscriber's secret (/ppp/active has none); "" when the
 * session has no local secret (RADIUS) or /ppp/secret could not be read.
 */
export function sessionCounts(
  active: readonly RouterOsRow[],
  secrets: readonly RouterOsRow[] | undefined,
): Array<{ labels: { service: string; profile: string }; value: number }> {
  const profileOf = new Map((secrets ?? []).map((s) => [s.name ?? '', s.profile ?? '']));
  const counts = new Map<string, { labels: { service: string; profile: string }; value: number }>();
  const add = (service: string, profile: string, n: number): void => {
    const key = JSON.stringify([service, profile]);
    const entry = counts.get(key);
    if (entry) entry.value += n;
    else counts.set(key, { labels: { service, profile }, value: n });
  };
  for (const r of active) add(r.service ?? '', profileOf.get(r.name ?? '') ?? '', 1);
  const services = new Set(active.map((r) => r.service ?? ''));
  for (const s of secrets ?? []) if (s.service && s.service !== 'any') services.add(s.service);
  for (const s of secrets ?? []) {
    const profile = s.profile ?? '';
    if (s.service && s.service !== 'any') add(s.service, profile, 0);
    else if (services.size === 0) add('any', profile, 0);
    else for (const service of services) add(service, profile, 0);
  }
  // A router with no local secrets (RADIUS only) and nobody connected still reports its total.
  if (counts.size === 0) add('', '', 0);
  return [...counts.values()];
}

/**
 * PPP active sessions: counts per service and profile always (0 for known profiles with nobody
 * connected); per-subscriber uptime and bytes (from the dynamic `<pppoe-NAME>` simple queue) only when
 * the module opts in, capped at `pppSessionLimit` series.
 */
export const pppActive: RouterOsCollector = {
  name: 'ppp_active',
  defaultEnabled: true,
  commands: (o) => [
    { path: '/ppp/active', proplist: ['name', 'service', 'uptime'] },
    { path: '/ppp/secret', proplist: ['name', 'profile', 'service'] },
    ...(o.pppSessionDetail ? [{ path: '/queue/simple', proplist: ['name', 'bytes', 'dynamic'] }] : []),
  ],
  collect: ([active, secrets, queues = []], o) => {
    // Without /ppp/active nothing is known about sessions: export nothing rather than zeros.
    if (active === undefined) return [];
    const families: MetricFamily[] = [
      {
        name: 'mikrotik_ppp_active_sessions',
        help: 'PPP sessions currently connected, by service and profile (0 for profiles of configured secrets).',
        type: 'gauge',
        samples: sessionCounts(active, secrets),
      },
    ];
    if (!o.pppSessionDetail) return families;
    const shown = active.slice(0, o.pppSessionLimit);
    families.push({
      name: 'mikrotik_ppp_session_uptime_seconds',
      help: 'Time the subscriber has been connected (opt-in, per subscriber).',
      type: 'gauge',
      samples: shown.flatMap((r) => {
        const v = parseDuration(r.uptime);
        return v === undefined
          ? []
          : [{ labels: { user: r.name ?? '', service: r.service ?? '' }, value: v }];
      }),
    });
    const shownNames = new Set(shown.map((r) => r.name));
    const bytes = queues.flatMap((q) => {
      const m = /^<(?:pppoe|l2tp|pptp|sstp|ovpn)-(.+)>$/.exec(q.name ?? '');
      if (!m || !shownNames.has(m[1])) return [];
      const pair = parsePair(q.bytes, parseCounter);
      return pair ? [{ user: m[1] as string, upload: pair[0], download: pair[1] }] : [];
    });
    families.push(
      {
        name: 'mikrotik_ppp_session_upload_bytes_total',
        help: "Bytes the subscriber sent, from the session's dynamic queue (opt-in).",
        type: 'counter',
        samples: bytes.map((b) => ({ labels: { user: b.user }, value: b.upload })),
      },
      {
        name: 'mikrotik_ppp_session_download_bytes_total',
        help: "Bytes the subscriber received, from the session's dynamic queue (opt-in).",
        type: 'counter',
        samples: bytes.map((b) => ({ labels: { user: b.user }, value: b.download })),
      },
    );
    if (active.length > o.pppSessionLimit) {
      families.push({
        name: 'mikrotik_ppp_sessions_not_exported',
        help: 'Sessions left out of the per-subscriber metrics by the cardinality limit.',
        type: 'gauge',
        samples: [{ value: active.length - o.pppSessionLimit }],
      });
    }
    return families;
  },
};

/** PPP secrets (subscribers configured) by profile and state. */
export const pppSecrets: RouterOsCollector = {
  name: 'ppp_secrets',
  defaultEnabled: true,
  commands: () => [{ path: '/ppp/secret', proplist: ['profile', 'disabled'] }],
  collect: ([rows = []]) => [
    {
      name: 'mikrotik_ppp_secrets',
      help: 'PPP secrets configured, by profile and state (enabled/disabled).',
      type: 'gauge',
      samples: countBy(rows, (r) => ({
        profile: r.profile ?? '',
        state: r.disabled === 'true' || r.disabled === 'yes' ? 'disabled' : 'enabled',
      })),
    },
  ],
};
